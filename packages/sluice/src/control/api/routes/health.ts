import type { Hono } from 'hono';
import type { ControlDeps } from '../../app.js';

/**
 * Unauthenticated probes and metrics, outside `/v1`: `/healthz` (the process answers), `/readyz`
 * (the store answers), `/metrics` (Prometheus text).
 */
export function mountProbes(app: Hono, deps: Pick<ControlDeps, 'db' | 'metrics'>, extraChecks: Array<() => Promise<{ name: string; ok: boolean; message?: string }>> = []): void {
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/readyz', async (c) => {
    const checks: Array<{ name: string; ok: boolean; message?: string }> = [];
    try {
      await deps.db.query('SELECT 1');
      checks.push({ name: 'store', ok: true });
    } catch (err) {
      checks.push({ name: 'store', ok: false, message: (err as Error).message });
    }
    for (const check of extraChecks) checks.push(await check().catch((err: Error) => ({ name: 'check', ok: false, message: err.message })));
    const ok = checks.every((x) => x.ok);
    return c.json({ ok, checks }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
}
