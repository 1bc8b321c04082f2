/**
 * Test fixtures for the gateway: real HTTP upstreams on loopback and routing configs built in code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sha256, type AgentRoute, type RoutedRelease, type RolloutRoute, type RoutingConfig } from '@sluice/core';
import { Pool } from 'undici';
import { Gateway, type GatewayOptions } from './gateway.js';
import { StaticConfigSource } from './config-source.js';

export interface Upstream {
  name: string;
  url: string;
  server: Server;
  /** Requests seen, with their headers (lower-case) and body. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }>;
  close(): Promise<void>;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/**
 * An upstream that answers `{"served":name}` with `x-served-by: name`, unless `handler` is
 * given. It records what it saw; `record: false` skips that (load tests).
 */
export async function startUpstream(name: string, handler?: UpstreamHandler, opts: { record?: boolean; streamBody?: boolean } = {}): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    if (opts.streamBody && handler) return handler(req, res, Buffer.alloc(0));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (opts.record !== false) seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (handler) return handler(req, res, body);
      const out = JSON.stringify({ served: name });
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name, 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  // Upgraded sockets leave the server's books; track every socket so close() ends them all.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    name,
    url,
    server,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export function release(name: string, upstreams: string[]): RoutedRelease {
  return { release: name, digest: sha256(name), upstreams, memoryNamespace: `mem/${name}` };
}

export function agentRoute(baseline: RoutedRelease, rollout?: Omit<RolloutRoute, 'candidate'> & { candidate: RoutedRelease }, extra: Partial<AgentRoute> = {}): AgentRoute {
  const r: AgentRoute = { agent: 'support-agent', match: { pathPrefix: '/' }, affinityTtlSeconds: 1800, baseline, ...extra };
  if (rollout) r.rollout = rollout;
  return r;
}

export function config(epoch: number, agents: AgentRoute[]): RoutingConfig {
  return { epoch, generatedAt: new Date().toISOString(), agents };
}

/** A started gateway on a free port, fed by a StaticConfigSource. */
export async function startGateway(initial: RoutingConfig | undefined, opts: Partial<GatewayOptions> = {}): Promise<{ gw: Gateway; source: StaticConfigSource; url: string; client: Pool }> {
  const source = new StaticConfigSource(initial);
  const gw = new Gateway({ port: 0, ...opts, source: opts.source ?? source });
  await gw.start();
  const url = `http://127.0.0.1:${gw.port}`;
  return { gw, source, url, client: new Pool(url, { connections: 64 }) };
}

/** Run `fn` over `items` with at most `n` at a time. */
export async function inParallel<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}
