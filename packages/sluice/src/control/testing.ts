/**
 * Fixtures for control plane tests: a control plane on a test store (PGlite or PostgreSQL),
 * called in-process through `app.request`, and small releases to register.
 */
import type { RouteModule } from './app.js';
import {
  MEDIA_TYPES,
  RELEASE_MEDIA_TYPE,
  canonicalBytes,
  digestOfJson,
  generateSigningKey,
  signEnvelope,
  type Component,
  type DsseEnvelope,
  type ReleaseManifest,
} from '@sluice/core';
import { openTestStore, type Backend, type TestStore } from '../adapters/store/testing.js';
import { createControlApp, type ControlApp } from './app.js';
import { assembleControlPlane, type ControlPlane } from './plane.js';
import type { ReleasePolicy } from './services/releases.js';
import { join } from 'node:path';

export interface TestControl {
  store: TestStore;
  plane: ControlPlane;
  app: ControlApp;
  adminToken: string;
  /** Call the API in-process: JSON in, status and JSON out. */
  call(method: string, path: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The same API over another app on the same store, with another signature policy. */
  withPolicy(policy: ReleasePolicy): TestControl['call'];
  dispose(): Promise<void>;
}

export async function startTestControl(backend: Backend, opts: { policy?: ReleasePolicy; tickMs?: number; routes?: RouteModule[] } = {}): Promise<TestControl> {
  const store = await openTestStore(backend);
  const plane = await assembleControlPlane(store.db, { dataDir: join(store.dir, 'data'), port: 0, ...(opts.policy ? { policy: opts.policy } : {}), ...(opts.tickMs ? { tickMs: opts.tickMs } : {}), ...(opts.routes ? { routes: opts.routes } : {}) });
  if (!plane.adminToken) throw new Error('a fresh store must bootstrap an admin token');
  const caller =
    (app: ControlApp): TestControl['call'] =>
    async (method, path, o = {}) => {
      const token = o.token === undefined ? plane.adminToken!.token : o.token;
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await app.request(path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Prometheus text and the like stay strings.
      }
      return { status: res.status, body, headers: res.headers };
    };
  return {
    store,
    plane,
    app: plane.app,
    adminToken: plane.adminToken.token,
    call: caller(plane.app),
    withPolicy: (policy) => caller(createControlApp({ db: plane.db, policy, metrics: plane.metrics, routing: plane.routing })),
    dispose: async () => {
      await plane.loop.stop();
      // The store fixture owns the database: it closes it and drops the schema.
      plane.routing.close();
      await store.dispose();
    },
  };
}

/** A small but well-formed release manifest for `agent@version`. */
export function testManifest(agent: string, version: string, temperature = 0.2): ReleaseManifest {
  const value = { provider: 'openai', name: 'gpt-5-mini', params: { temperature } };
  const component: Component = {
    kind: 'model',
    name: 'model',
    mediaType: MEDIA_TYPES.json,
    digest: digestOfJson(value),
    size: canonicalBytes(value).byteLength,
    value,
  };
  return { mediaType: RELEASE_MEDIA_TYPE, schemaVersion: 1, agent, version, components: [component] };
}

export const testKey = generateSigningKey();

export function signManifest(manifest: ReleaseManifest, privateKeyPem = testKey.privateKeyPem): DsseEnvelope {
  return signEnvelope(canonicalBytes(manifest), privateKeyPem);
}
