/**
 * Where a gateway's routing config comes from. The gateway applies a config only if its epoch is
 * newer than the one it has (DESIGN.md "Scale"), and keeps serving the last good config when the
 * source fails (fail-static): `status().connected` goes false and `/readyz` says `stale: true`.
 */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { invalid, type RoutingConfig } from '@sluice/core';
import { request } from 'undici';

export interface SourceStatus {
  kind: 'static' | 'file' | 'control-plane' | 'feed';
  /** False while the source cannot be read: the gateway is serving its last good config. */
  connected: boolean;
  lastError?: string;
  /** Last successful contact, ISO time. */
  lastOkAt?: string;
}

export interface ConfigSource {
  /** Start delivering configs; `apply` may be called with the same or older epochs (ignored). */
  start(apply: (config: RoutingConfig) => void): void;
  stop(): Promise<void>;
  status(): SourceStatus;
}

const release = z.object({
  release: z.string().min(1),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  upstreams: z.array(z.url()).min(1),
  memoryNamespace: z.string(),
});

export const RoutingConfigSchema = z.object({
  epoch: z.number().int().nonnegative(),
  generatedAt: z.string(),
  agents: z.array(
    z.object({
      agent: z.string().min(1),
      match: z.object({
        host: z.string().optional(),
        pathPrefix: z.string().startsWith('/').optional(),
        header: z.object({ name: z.string().min(1), value: z.string() }).optional(),
      }),
      unitKey: z.object({ bodyPath: z.string().min(1).optional() }).optional(),
      affinityTtlSeconds: z.number().positive(),
      baseline: release,
      rollout: z
        .object({
          id: z.string().min(1),
          strategy: z.enum(['canary', 'intent', 'shadow', 'blue-green']),
          unit: z.enum(['session', 'user', 'request']),
          weight: z.number().min(0).max(100),
          intents: z.array(z.string()).optional(),
          intentBodyPath: z.string().min(1).optional(),
          rolledBack: z.object({ mode: z.enum(['drain', 'hard']) }).optional(),
          candidate: release,
        })
        .optional(),
      constraints: z.array(z.string()).optional(),
    }),
  ),
});

/** Validate a config; a bad one is refused whole, naming the field. */
export function parseRoutingConfig(value: unknown, where: string): RoutingConfig {
  const r = RoutingConfigSchema.safeParse(value);
  if (!r.success)
    throw invalid(
      `${where}: not a valid routing config`,
      r.error.issues.map((i) => ({ where: `${where}#/${i.path.join('/')}`, message: i.message })),
    );
  return r.data as RoutingConfig;
}

/** A config given in code (or none yet); `push` delivers a new one (tests, embedding). */
export class StaticConfigSource implements ConfigSource {
  private apply: ((c: RoutingConfig) => void) | undefined;
  private connected = true;
  constructor(private config?: RoutingConfig) {}
  start(apply: (c: RoutingConfig) => void): void {
    this.apply = apply;
    if (this.config) apply(this.config);
  }
  push(config: RoutingConfig): void {
    this.config = config;
    this.apply?.(config);
  }
  /** Simulate losing (or regaining) the source. */
  setConnected(connected: boolean): void {
    this.connected = connected;
  }
  async stop(): Promise<void> {
    this.apply = undefined;
  }
  status(): SourceStatus {
    return this.connected ? { kind: 'static', connected: true } : { kind: 'static', connected: false, lastError: 'disconnected' };
  }
}

/**
 * A feed in the same process (the control plane under `sluice up`): `subscribe` delivers each
 * new config and returns how to stop; `onError` reports a failed read (the gateway goes stale).
 */
export class FeedConfigSource implements ConfigSource {
  private stopFeed: (() => Promise<void>) | undefined;
  private st: SourceStatus = { kind: 'feed', connected: false };
  constructor(private readonly subscribe: (apply: (c: RoutingConfig) => void, onError: (err: unknown) => void) => { stop(): Promise<void> }) {}
  start(apply: (c: RoutingConfig) => void): void {
    const feed = this.subscribe(
      (c) => {
        this.st = { kind: 'feed', connected: true, lastOkAt: new Date().toISOString() };
        apply(c);
      },
      (err) => {
        this.st = { ...this.st, connected: false, lastError: err instanceof Error ? err.message : String(err) };
      },
    );
    this.stopFeed = () => feed.stop();
  }
  async stop(): Promise<void> {
    await this.stopFeed?.();
  }
  status(): SourceStatus {
    return this.st;
  }
}

/** A JSON file, re-read when its modification time changes. */
export class FileConfigSource implements ConfigSource {
  private timer: NodeJS.Timeout | undefined;
  private mtime = 0;
  private st: SourceStatus = { kind: 'file', connected: false };
  constructor(
    private readonly path: string,
    private readonly intervalMs = 1_000,
  ) {}
  start(apply: (c: RoutingConfig) => void): void {
    const tick = async () => {
      try {
        const s = await stat(this.path);
        if (s.mtimeMs !== this.mtime) {
          const text = await readFile(this.path, 'utf8');
          apply(parseRoutingConfig(JSON.parse(text), this.path));
          this.mtime = s.mtimeMs;
        }
        this.st = { kind: 'file', connected: true, lastOkAt: new Date().toISOString() };
      } catch (err) {
        this.st = { ...this.st, connected: false, lastError: (err as Error).message };
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.intervalMs);
    this.timer.unref();
  }
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
  status(): SourceStatus {
    return this.st;
  }
}

export interface ControlPlaneSourceOptions {
  /** Control API base URL, e.g. `http://127.0.0.1:7700`. */
  url: string;
  token?: string;
  /** How long the control plane may hold a long poll. Default 25,000 ms. */
  waitMs?: number;
  /** Pause after a failure before trying again (doubles up to 10×). Default 500 ms. */
  retryMs?: number;
}

/**
 * Long-polls `GET /v1/routing?after=<epoch>&waitMs=N` with a Bearer token. The first poll asks
 * without waiting so a starting gateway gets its config at once. A 200 carries a RoutingConfig;
 * 204 or 304 mean "nothing newer".
 */
export class ControlPlaneConfigSource implements ConfigSource {
  private stopped = false;
  private abort: AbortController | undefined;
  private epoch = -1;
  private st: SourceStatus = { kind: 'control-plane', connected: false };
  private loop: Promise<void> | undefined;
  constructor(private readonly opts: ControlPlaneSourceOptions) {}

  start(apply: (c: RoutingConfig) => void): void {
    this.loop = this.run(apply);
  }

  private async run(apply: (c: RoutingConfig) => void): Promise<void> {
    const waitMs = this.opts.waitMs ?? 25_000;
    const retry = this.opts.retryMs ?? 500;
    let backoff = retry;
    let first = true;
    while (!this.stopped) {
      this.abort = new AbortController();
      const url = new URL('/v1/routing', this.opts.url);
      url.searchParams.set('after', String(Math.max(0, this.epoch)));
      url.searchParams.set('waitMs', String(first ? 0 : waitMs));
      try {
        const res = await request(url, {
          method: 'GET',
          headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}`, accept: 'application/json' } : { accept: 'application/json' },
          signal: this.abort.signal,
          headersTimeout: waitMs + 10_000,
          bodyTimeout: 30_000,
        });
        if (res.statusCode === 200) {
          const config = parseRoutingConfig(await res.body.json(), `${url.origin}/v1/routing`);
          if (config.epoch > this.epoch || first) {
            apply(config);
            this.epoch = Math.max(this.epoch, config.epoch);
          }
        } else {
          const text = await res.body.text();
          if (res.statusCode !== 204 && res.statusCode !== 304) throw new Error(`control plane answered ${res.statusCode}: ${text.slice(0, 200)}`);
        }
        first = false;
        backoff = retry;
        this.st = { kind: 'control-plane', connected: true, lastOkAt: new Date().toISOString() };
      } catch (err) {
        if (this.stopped) break;
        this.st = { ...this.st, connected: false, lastError: (err as Error).message };
        await new Promise((r) => setTimeout(r, backoff).unref());
        backoff = Math.min(backoff * 2, retry * 10);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop?.catch(() => undefined);
  }

  status(): SourceStatus {
    return this.st;
  }
}
