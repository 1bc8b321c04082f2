/**
 * One keep-alive undici Pool per upstream origin, shared across config epochs so a new epoch
 * does not cost new connections. Pools no longer referenced are closed gracefully (in-flight
 * requests finish first).
 */
import { Pool } from 'undici';

export interface UpstreamOptions {
  /** Connect timeout: a black-holed upstream gives a 502, never a hang. Default 2,000 ms. */
  connectTimeoutMs?: number;
  /** Time to the response headers. Default 300,000 ms (agents can think for a long time). */
  headersTimeoutMs?: number;
  /** Idle time between body chunks (an SSE stream may pause). Default 300,000 ms. */
  bodyTimeoutMs?: number;
}

export interface Upstream {
  /** As configured, e.g. `http://10.0.0.5:8080/agent`. */
  url: string;
  pool: Pool;
  /** Path prefix of the base URL without the trailing slash ('' when none). */
  basePath: string;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  constructor(private readonly opts: UpstreamOptions = {}) {}

  upstream(url: string): Upstream {
    const u = new URL(url);
    let pool = this.pools.get(u.origin);
    if (!pool) {
      pool = new Pool(u.origin, {
        connect: { timeout: this.opts.connectTimeoutMs ?? 2_000 },
        headersTimeout: this.opts.headersTimeoutMs ?? 300_000,
        bodyTimeout: this.opts.bodyTimeoutMs ?? 300_000,
        keepAliveTimeout: 10_000,
      });
      this.pools.set(u.origin, pool);
    }
    return { url, pool, basePath: u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '') };
  }

  /** Close pools for origins no longer in use. */
  retain(origins: Set<string>): void {
    for (const [origin, pool] of this.pools) {
      if (origins.has(origin)) continue;
      this.pools.delete(origin);
      void pool.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
