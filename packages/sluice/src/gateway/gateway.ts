/**
 * The gateway: a node:http reverse proxy in front of agent upstreams. Per request it matches an
 * agent route, finds the unit key, decides the cohort (affinity first, then the deterministic
 * hash), forwards with the DESIGN.md headers and measures. Everything per-epoch is precompiled
 * in the routing table (table.ts); the hot path only reads it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { assignNew, bucket, type RoutingConfig } from '@sluice/core';
import { isPromise, type AffinityHealth, type AffinityStore } from '../adapters/affinity/affinity.js';
import { MemoryAffinityStore } from '../adapters/affinity/memory/memory.js';
import { bodyField, readCapped, type BufferedBody } from './body.js';
import type { ConfigSource, SourceStatus } from './config-source.js';
import { DrainTracker, type DrainStatus } from './drains.js';
import { baggageFor, scanHeaders, SESSION_COOKIE_ATTRS, sessionCookie, traceparentFor, type RequestHeads } from './headers.js';
import { Measurements } from './measurements.js';
import { Forward, Mirror, sendError, type Finished, type ForwardContext, type ForwardSink } from './proxy.js';
import { compile, match, pick, type CompiledRoute, type RoutingTable, type Target } from './table.js';
import { UpstreamPools, type UpstreamOptions } from './upstreams.js';
import { proxyUpgrade } from './websocket.js';

export interface GatewayOptions {
  /** Traffic port; 0 picks a free one. Default 7701. */
  port?: number;
  host?: string;
  /**
   * Serve `/healthz`, `/readyz`, `/metrics` and `/status` on a separate port. When unset they are
   * served on the traffic port and those four paths are not proxied.
   */
  adminPort?: number;
  source: ConfigSource;
  /** Default: an in-memory table. */
  affinity?: AffinityStore;
  measurements?: Measurements;
  upstream?: UpstreamOptions;
  /** Most request-body bytes buffered to read a unit key or intent from JSON. Default 1 MiB. */
  bodyCapBytes?: number;
}

export interface GatewayStatus {
  ready: boolean;
  /** Serving the last good config while the config source is unreachable. */
  stale: boolean;
  epoch: number | null;
  appliedAt: string | null;
  source: SourceStatus;
  affinity: AffinityHealth;
  drains: DrainStatus[];
  /** Configs refused because they were older than the one applied, or invalid. */
  refused: { older: number; invalid: number; lastError?: string };
}

const ADMIN_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/status']);

export class Gateway implements ForwardSink {
  readonly name = 'gateway';
  readonly measurements: Measurements;
  readonly affinity: AffinityStore;
  private readonly pools: UpstreamPools;
  private readonly drains = new DrainTracker();
  private table: RoutingTable | undefined;
  private appliedAt: string | null = null;
  private readonly refused: GatewayStatus['refused'] = { older: 0, invalid: 0 };
  private server: Server | undefined;
  private adminServer: Server | undefined;
  private readonly sockets = new Set<Duplex>();
  private readonly bodyCap: number;

  constructor(private readonly opts: GatewayOptions) {
    this.measurements = opts.measurements ?? new Measurements();
    this.affinity = opts.affinity ?? new MemoryAffinityStore();
    this.pools = new UpstreamPools(opts.upstream);
    this.bodyCap = opts.bodyCapBytes ?? 1024 * 1024;
    this.measurements.gauges.set('sluice_gateway_config_epoch', { help: 'Epoch of the routing config in use (-1 before the first).', value: () => this.table?.epoch ?? -1 });
    this.measurements.gauges.set('sluice_gateway_config_stale', { help: '1 while the config source is unreachable and the last good config is served.', value: () => (this.status().stale ? 1 : 0) });
    this.measurements.gauges.set('sluice_gateway_affinity_degraded', { help: '1 while the affinity store is unreachable and assignment falls back to the deterministic hash.', value: () => (this.affinity.health().degraded ? 1 : 0) });
    this.measurements.gauges.set('sluice_gateway_draining_sessions', {
      help: 'Canary sessions still served after a drain rollback, per rollout.',
      value: () => this.drains.status().map((d) => [{ rollout: d.rollout, agent: d.agent, mode: d.mode }, d.sessions]),
    });
  }

  /** Listen and start taking configs from the source. */
  async start(): Promise<void> {
    this.opts.source.start((c) => this.apply(c));
    this.server = createServer({ noDelay: true, keepAliveTimeout: 65_000 }, this.onRequest);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('connection', (s: Duplex) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await listen(this.server, this.opts.port ?? 7701, this.opts.host ?? '127.0.0.1');
    if (this.opts.adminPort !== undefined) {
      this.adminServer = createServer((req, res) => this.admin(req, res));
      await listen(this.adminServer, this.opts.adminPort, this.opts.host ?? '127.0.0.1');
    }
  }

  async stop(): Promise<void> {
    await this.opts.source.stop();
    for (const s of this.sockets) s.destroy();
    await Promise.all([close(this.server), close(this.adminServer)]);
    await this.pools.close();
    await this.affinity.close();
  }

  /** The traffic port actually bound. */
  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  get adminPort(): number | undefined {
    return this.adminServer ? (this.adminServer.address() as AddressInfo).port : undefined;
  }

  /**
   * Apply a routing config unless it is older than (or as old as) the one in use. Returns whether
   * it was applied. A config that fails to compile is refused and the previous one kept.
   */
  apply(config: RoutingConfig): boolean {
    if (this.table !== undefined && config.epoch <= this.table.epoch) {
      if (config.epoch < this.table.epoch) this.refused.older++;
      return false;
    }
    try {
      this.table = compile(config, this.pools, this.measurements);
    } catch (err) {
      this.refused.invalid++;
      this.refused.lastError = `epoch ${config.epoch}: ${(err as Error).message}`;
      return false;
    }
    this.appliedAt = new Date().toISOString();
    const live = new Set<string>();
    for (const r of this.table.routes) {
      const ro = r.rollout;
      if (!ro) continue;
      live.add(ro.id);
      if (ro.rolledBack) this.drains.rolledBack(ro.id, r.agent, ro.rolledBack.mode, r.ttlMs);
    }
    this.drains.retain(live);
    return true;
  }

  status(): GatewayStatus {
    const source = this.opts.source.status();
    return {
      ready: this.table !== undefined,
      stale: this.table !== undefined && !source.connected,
      epoch: this.table?.epoch ?? null,
      appliedAt: this.appliedAt,
      source,
      affinity: this.affinity.health(),
      drains: this.drains.status(),
      refused: { ...this.refused },
    };
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url as string;
    if (this.adminServer === undefined && ADMIN_PATHS.has(url)) return this.admin(req, res);
    const table = this.table;
    if (table === undefined) return sendError(res, 503, 'the gateway has no routing config yet');
    const heads = scanHeaders(req.rawHeaders, table.matchHeaders);
    const route = match(table, heads.host, url, heads.matched);
    if (route === undefined) return sendError(res, 404, `no agent route matches ${heads.host ?? ''}${url}`);
    if (heads.hasBody && (route.unitBodyPath !== undefined || route.intentBodyPath !== undefined) && heads.contentType?.includes('json')) {
      readCapped(req, this.bodyCap).then(
        (body) => this.route(req, res, heads, route, body),
        () => sendError(res, 400, 'could not read the request body'),
      );
      return;
    }
    this.route(req, res, heads, route, undefined);
  };

  private route(req: IncomingMessage, res: ServerResponse, heads: RequestHeads, route: CompiledRoute, body: BufferedBody | undefined): void {
    const ro = route.rollout;
    const unitKind = ro?.unit ?? 'session';
    let session = heads.session ?? bodyField(body?.json, route.unitBodyPath) ?? sessionCookie(heads.cookie);
    let setCookie: string | undefined;
    if (session === undefined && unitKind !== 'request') {
      session = randomUUID();
      setCookie = `sluice_session=${session}${SESSION_COOKIE_ATTRS}`;
    }
    // A user-pinned rollout falls back to the session when the client names no user.
    const unit = unitKind === 'request' ? undefined : unitKind === 'user' ? (heads.user ?? session) : session;
    if (ro === undefined) return this.forward(req, res, heads, route, route.baseline, session, unit, setCookie, body, false);
    const rb = ro.rolledBack;
    switch (ro.strategy) {
      case 'intent': {
        const intent = heads.intent ?? bodyField(body?.json, route.intentBodyPath);
        const t = rb === undefined && intent !== undefined && route.intents?.has(intent) ? (route.candidate as Target) : route.baseline;
        return this.forward(req, res, heads, route, t, session, unit, setCookie, body, false);
      }
      case 'shadow': {
        const b = unit === undefined ? Math.floor(Math.random() * 10_000) : bucket(ro.id, unit);
        return this.forward(req, res, heads, route, route.baseline, session, unit, setCookie, body, rb === undefined && b < route.threshold);
      }
      default: {
        // canary and blue-green: the first assignment of a unit wins.
        if (rb?.mode === 'hard') return this.forward(req, res, heads, route, route.baseline, session, unit, setCookie, body, false);
        if (unit === undefined) {
          const t = rb === undefined && Math.random() * 10_000 < route.threshold ? (route.candidate as Target) : route.baseline;
          return this.forward(req, res, heads, route, t, session, unit, setCookie, body, false);
        }
        const key = `${ro.id}:${unit}`;
        // A unit seen before (answered without I/O by the memory store) needs no hashing.
        const known = this.affinity.lookup?.(key, route.ttlMs);
        if (known !== undefined) {
          return this.forward(req, res, heads, route, known === 'canary' ? (route.candidate as Target) : route.baseline, session, unit, setCookie, body, false);
        }
        const proposed = rb !== undefined ? 'baseline' : assignNew(bucket(ro.id, unit), ro.weight);
        const winner = this.affinity.setIfAbsent(key, proposed, route.ttlMs);
        if (!isPromise(winner)) return this.forward(req, res, heads, route, winner === 'canary' ? (route.candidate as Target) : route.baseline, session, unit, setCookie, body, false);
        const go = (w: string) => this.forward(req, res, heads, route, w === 'canary' ? (route.candidate as Target) : route.baseline, session, unit, setCookie, body, false);
        winner.then(go, () => go(proposed));
      }
    }
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    heads: RequestHeads,
    route: CompiledRoute,
    target: Target,
    session: string | undefined,
    unit: string | undefined,
    setCookie: string | undefined,
    body: BufferedBody | undefined,
    mirror: boolean,
  ): void {
    const out = heads.out;
    const base = out.length;
    const fixed = target.headers;
    for (let i = 0; i < fixed.length; i++) out.push(fixed[i] as string);
    const traceparent = traceparentFor(heads.traceparent);
    out.push('traceparent', traceparent, 'baggage', baggageFor(heads.baggage, target.baggage));
    if (session !== undefined) out.push('sluice-session', session);

    const ro = route.rollout;
    const draining = ro?.rolledBack?.mode === 'drain' && target.cohort === 'canary';
    if (draining) this.drains.start((ro as { id: string }).id, unit);

    let upstreamBody: Buffer | AsyncIterable<Buffer> | IncomingMessage | PassThrough | null = body ? body.upstream : heads.hasBody ? req : null;
    let mirrorBody: Buffer | PassThrough | null = null;
    if (mirror && route.shadow !== undefined) {
      if (upstreamBody === null || Buffer.isBuffer(upstreamBody)) mirrorBody = upstreamBody;
      else {
        const [a, b] = tee(upstreamBody as AsyncIterable<Buffer> & NodeJS.ReadableStream, this.bodyCap);
        upstreamBody = a;
        mirrorBody = b;
      }
    }

    const at = Date.now();
    const start = performance.now();
    const upstream = pick(target);
    const ctx: ForwardContext = { route, target, unit, at, draining, pair: mirror && route.shadow !== undefined ? {} : undefined };
    upstream.pool.dispatch(
      { path: upstream.basePath + (req.url as string), method: req.method as string, headers: out, body: upstreamBody as Buffer | null },
      new Forward(res, this, ctx, upstream.url, start, setCookie),
    );

    if (ctx.pair !== undefined) {
      const shadow = route.shadow as Target;
      // Same client headers; the release headers of the candidate instead of the baseline's.
      const mout = out.slice(0, base);
      for (const h of shadow.headers) mout.push(h);
      mout.push('traceparent', traceparent, 'baggage', baggageFor(heads.baggage, shadow.baggage));
      if (session !== undefined) mout.push('sluice-session', session);
      const mu = pick(shadow);
      mu.pool.dispatch(
        { path: mu.basePath + (req.url as string), method: req.method as string, headers: mout, body: mirrorBody as Buffer | null },
        new Mirror(this, ctx, performance.now()),
      );
    }
  }

  /** A forwarded request ended (ForwardSink). */
  forwardDone(ctx: ForwardContext, f: Finished): void {
    const { route, target, unit } = ctx;
    if (ctx.draining) this.drains.finish((route.rollout as { id: string }).id);
    this.record(route, target, unit, ctx.at, f);
    if (f.boundarySafe && route.rollout !== undefined && unit !== undefined) this.boundary(route, target, unit);
    if (ctx.pair !== undefined) {
      ctx.pair.baseline = f;
      this.pairDone(route, unit, ctx.at, ctx.pair);
    }
  }

  /** A mirrored request ended (ForwardSink). */
  mirrorDone(ctx: ForwardContext, f: Finished): void {
    const pair = ctx.pair as NonNullable<ForwardContext['pair']>;
    this.record(ctx.route, ctx.route.shadow as Target, ctx.unit, ctx.at, f);
    pair.shadow = f;
    this.pairDone(ctx.route, ctx.unit, ctx.at, pair);
  }

  private record(route: CompiledRoute, target: Target, unit: string | undefined, at: number, f: Finished): void {
    // One object literal with every field, so all measurements share one shape.
    this.measurements.record(target.series, {
      at,
      agent: route.agent,
      rollout: target.rolloutId,
      release: target.release,
      digest: target.digest,
      cohort: target.cohort,
      unit,
      status: f.status,
      latencyMs: f.latencyMs,
      ttfbMs: f.ttfbMs,
      bytes: f.bytes,
      outcome: f.outcome,
      usage: f.usage,
      error: f.error,
    });
  }

  private pairDone(route: CompiledRoute, unit: string | undefined, at: number, p: { baseline?: Finished; shadow?: Finished }): void {
    if (p.baseline === undefined || p.shadow === undefined || route.shadow === undefined) return;
    const side = (t: Target, f: Finished) => {
      const s: { release: string; status: number; latencyMs: number; outcome?: string; usage?: Finished['usage']; error?: string } = { release: t.release, status: f.status, latencyMs: f.latencyMs };
      if (f.outcome !== undefined) s.outcome = f.outcome;
      if (f.usage !== undefined) s.usage = f.usage;
      if (f.error !== undefined) s.error = f.error;
      return s;
    };
    const pair: Parameters<Measurements['recordPair']>[0] = {
      at,
      agent: route.agent,
      rollout: (route.rollout as { id: string }).id,
      baseline: side(route.baseline, p.baseline),
      shadow: side(route.shadow, p.shadow),
    };
    if (unit !== undefined) pair.unit = unit;
    this.measurements.recordPair(pair);
  }

  /**
   * The upstream said `sluice-boundary: safe`: a blue-green session still on the old release
   * moves to the new one; a canary session draining after a rollback moves back to the baseline.
   */
  private boundary(route: CompiledRoute, target: Target, unit: string): void {
    const ro = route.rollout;
    if (ro === undefined || (ro.strategy !== 'blue-green' && ro.strategy !== 'canary')) return;
    const key = `${ro.id}:${unit}`;
    if (ro.rolledBack?.mode === 'drain' && target.cohort === 'canary') {
      void Promise.resolve(this.affinity.set(key, 'baseline', route.ttlMs)).then(() => this.drains.migrated(ro.id, unit));
    } else if (ro.rolledBack === undefined && ro.strategy === 'blue-green' && target.cohort === 'baseline' && assignNew(bucket(ro.id, unit), ro.weight) === 'canary') {
      void Promise.resolve(this.affinity.set(key, 'canary', route.ttlMs));
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const table = this.table;
    const fail = (status: number, message: string) => {
      const body = JSON.stringify({ error: { kind: status === 404 ? 'not-found' : 'failed', message, details: [] } });
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Bad Gateway'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (table === undefined) return fail(503, 'the gateway has no routing config yet');
    const heads = scanHeaders(req.rawHeaders, table.matchHeaders);
    const route = match(table, heads.host, req.url as string, heads.matched);
    if (route === undefined) return fail(404, `no agent route matches ${heads.host ?? ''}${req.url as string}`);
    const ro = route.rollout;
    const session = heads.session ?? sessionCookie(heads.cookie);
    const unit = ro?.unit === 'request' ? undefined : ro?.unit === 'user' ? (heads.user ?? session) : session;
    const go = (t: Target) => {
      const out = heads.out;
      for (const h of t.headers) out.push(h);
      out.push('traceparent', traceparentFor(heads.traceparent), 'baggage', baggageFor(heads.baggage, t.baggage));
      if (session !== undefined) out.push('sluice-session', session);
      proxyUpgrade(req, socket, head, t, pick(t), out, fail);
    };
    if (ro === undefined || ro.strategy === 'shadow' || ro.rolledBack?.mode === 'hard') return go(route.baseline);
    if (ro.strategy === 'intent') return go(!ro.rolledBack && heads.intent !== undefined && route.intents?.has(heads.intent) ? (route.candidate as Target) : route.baseline);
    if (unit === undefined) return go(!ro.rolledBack && Math.random() * 10_000 < route.threshold ? (route.candidate as Target) : route.baseline);
    const proposed = ro.rolledBack ? 'baseline' : assignNew(bucket(ro.id, unit), ro.weight);
    const w = this.affinity.setIfAbsent(`${ro.id}:${unit}`, proposed, route.ttlMs);
    const pickTarget = (c: string) => go(c === 'canary' ? (route.candidate as Target) : route.baseline);
    if (isPromise(w)) w.then(pickTarget, () => pickTarget(proposed));
    else pickTarget(w);
  }

  private admin(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url as string).split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
    };
    const st = this.status();
    switch (path) {
      case '/healthz':
        return send(200, 'application/json', '{"ok":true}\n');
      case '/readyz':
        return send(st.ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready: st.ready, stale: st.stale, epoch: st.epoch, source: st.source, affinity: st.affinity }, null, 2)}\n`);
      case '/metrics':
        return send(200, 'text/plain; version=0.0.4; charset=utf-8', this.measurements.prometheus());
      case '/status':
        return send(200, 'application/json', `${JSON.stringify(st, null, 2)}\n`);
      default:
        return send(404, 'application/json', '{"error":{"kind":"not-found","message":"no such admin path","details":[]}}\n');
    }
  }
}

/**
 * Split a request body for a mirrored request: the baseline copy keeps normal backpressure;
 * the shadow copy is abandoned (ended early) if it falls more than `cap` bytes behind, so a slow
 * candidate can never slow the client's request down.
 */
function tee(src: NodeJS.ReadableStream, cap: number): [PassThrough, PassThrough] {
  const a = new PassThrough();
  const b = new PassThrough({ highWaterMark: cap });
  let bAlive = true;
  src.on('data', (c: Buffer) => {
    if (!a.write(c)) {
      src.pause();
      a.once('drain', () => src.resume());
    }
    if (bAlive && !b.write(c) && b.writableLength > cap) {
      bAlive = false;
      b.destroy(new Error('shadow copy fell behind'));
    }
  });
  src.on('end', () => {
    a.end();
    if (bAlive) b.end();
  });
  src.on('error', (e: Error) => {
    a.destroy(e);
    b.destroy(e);
  });
  return [a, b];
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}
