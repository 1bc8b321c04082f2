/**
 * The control API client the CLI uses. Errors come back as the SluiceError the server raised
 * (same kind, message and details), so exit codes match whether a check ran locally or remotely.
 *
 * Commands carry an `Idempotency-Key` chosen once per invocation and are retried with it when the
 * connection fails, so a command sent while the server restarts is applied exactly once.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorKindForStatus, SluiceError, type ErrorKind } from '@sluice/core';
import { ADMIN_TOKEN_FILE } from './bootstrap.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7700';
export const DEFAULT_DATA_DIR = '.sluice/data';

export interface ClientOptions {
  server?: string;
  token?: string;
  /** Where `sluice up` keeps its data; its admin-token file is the token of last resort. */
  dataDir?: string;
  /** How long to keep retrying a request whose connection failed. */
  retryForMs?: number;
}

const KINDS: ErrorKind[] = ['failed', 'invalid', 'not-found', 'forbidden', 'unauthenticated', 'conflict'];

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Send (and retry with) this Idempotency-Key; commands get a fresh one by default. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export class ControlClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly retryForMs: number;

  constructor(opts: ClientOptions = {}) {
    this.server = (opts.server ?? DEFAULT_SERVER).replace(/\/+$/, '');
    this.token = opts.token ?? readAdminToken(opts.dataDir ?? DEFAULT_DATA_DIR);
    this.retryForMs = opts.retryForMs ?? Number(process.env.SLUICE_RETRY_MS ?? 3000);
  }

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  /** A state change: idempotent by key, so safe to retry. */
  command<T>(path: string, body: unknown = {}, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body, idempotencyKey: opts.idempotencyKey ?? randomUUID() });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    // Only requests that are safe to repeat are retried: reads, and commands with a key.
    const retriable = method === 'GET' || opts.idempotencyKey !== undefined;
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (retriable && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 1000)));
          continue;
        }
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        throw new SluiceError('failed', `cannot reach the control API at ${this.server} (${cause}): is \`sluice up\` running? (set --server or SLUICE_SERVER)`, [
          { where: this.server, message: String(cause) },
        ]);
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      if (res.ok) return body as T;
      if (res.status >= 502 && res.status <= 504 && retriable && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      throw toError(res.status, body, `${method} ${url.pathname}`);
    }
  }
}

function toError(status: number, body: unknown, what: string): SluiceError {
  const e = (body as { error?: { kind?: string; message?: string; details?: Array<{ where?: string; message: string }> } } | undefined)?.error;
  const kind = e?.kind && (KINDS as string[]).includes(e.kind) ? (e.kind as ErrorKind) : errorKindForStatus(status);
  const hint = status === 401 ? ' (pass --token or set SLUICE_TOKEN)' : '';
  return new SluiceError(kind, `${e?.message ?? `${what} answered ${status}`}${hint}`, e?.details ?? []);
}

/** The admin token `sluice up` wrote on its first start, if this machine has it. */
export function readAdminToken(dataDir: string): string | undefined {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(file)) return undefined;
  const token = readFileSync(file, 'utf8').trim();
  return token || undefined;
}

/** The client for a CLI invocation: `--server`/SLUICE_SERVER, `--token`/SLUICE_TOKEN, else the local admin token. */
export function clientFor(globals: { server?: string; token?: string }): ControlClient {
  return new ControlClient({
    ...(globals.server ? { server: globals.server } : {}),
    ...(globals.token ? { token: globals.token } : {}),
    dataDir: process.env.SLUICE_DATA_DIR ?? DEFAULT_DATA_DIR,
  });
}
