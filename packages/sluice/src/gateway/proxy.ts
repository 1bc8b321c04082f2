/**
 * Forwarding one request's response to the client with undici's dispatch handler: bytes are
 * written to the client as they arrive (SSE and chunked bodies are never held back), upstream
 * reads pause while the client is slow, and the measurement is taken on the way.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { CompiledRoute, Target } from './table.js';
import { UsageSniffer } from './usage.js';

/** Response header names (lower case) not passed to the client. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer', 'sluice-boundary', 'sluice-outcome']);
const LENGTHS = new Set([...HOP, 'content-type', 'content-length'].map((n) => n.length));

/** What the gateway needs back when a forwarded (or mirrored) request ends. */
export interface ForwardContext {
  route: CompiledRoute;
  target: Target;
  unit: string | undefined;
  /** Start, epoch ms. */
  at: number;
  /** A canary request of a drain rollback (counted in flight). */
  draining: boolean;
  /** Set when the request is mirrored: both sides' results meet here. */
  pair: { baseline?: Finished; shadow?: Finished } | undefined;
}

export interface ForwardSink {
  forwardDone(ctx: ForwardContext, f: Finished): void;
  mirrorDone(ctx: ForwardContext, f: Finished): void;
}

const kForward = Symbol('sluice.forward');
const CLIENT_CLOSED = 'client closed the connection';

// One listener function for every response (no per-request closure): aborts the upstream when the
// client goes away before the response is complete.
function onClientClose(this: ServerResponse & { [kForward]?: Forward }): void {
  this[kForward]?.clientClosed();
}

export interface Finished {
  status: number;
  ttfbMs: number;
  latencyMs: number;
  bytes: number;
  outcome: string | undefined;
  boundarySafe: boolean;
  usage: ReturnType<UsageSniffer['usage']>;
  error: string | undefined;
}

/** Maps an upstream failure to what the client is told and what the measurement says. */
export function classify(err: Error): { status: number; error: string } {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return { status: 502, error: 'refused' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { status: 502, error: 'connect-timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { status: 504, error: 'timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { status: 504, error: 'timeout' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { status: 502, error: 'dns' };
    case 'UND_ERR_ABORTED':
      return { status: 499, error: 'client-abort' };
    default:
      return { status: 502, error: 'reset' };
  }
}

export function sendError(res: ServerResponse, status: number, message: string, extra: Record<string, unknown> = {}, detail?: { where: string; message: string }): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const kind = status === 404 ? 'not-found' : status === 400 ? 'invalid' : 'failed';
  const body = JSON.stringify({ error: { kind, message, details: detail ? [detail] : [] }, ...extra });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

type RawBuffer = Buffer & { latin1Slice?: (start: number, end: number) => string };
// Buffer#latin1Slice skips toString()'s encoding dispatch; it is what toString('latin1') ends in.
const HAS_LATIN1_SLICE = typeof (Buffer.prototype as RawBuffer).latin1Slice === 'function';
const latin1 = HAS_LATIN1_SLICE ? (b: RawBuffer) => (b.latin1Slice as (s: number, e: number) => string).call(b, 0, b.length) : (b: Buffer) => b.toString('latin1');

export class Forward implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private status = 0;
  private ttfb = 0;
  private bytes = 0;
  private outcome: string | undefined;
  private boundarySafe = false;
  private sniffer: UsageSniffer | undefined;
  private done = false;
  /** Body bytes still expected when the upstream sent a content-length (-1: unknown). */
  private remaining = -1;
  private readonly target: Target;

  constructor(
    private readonly res: ServerResponse & { [kForward]?: Forward },
    private readonly sink: ForwardSink,
    private readonly ctx: ForwardContext,
    private readonly upstreamUrl: string,
    private readonly start: number,
    private readonly setCookie: string | undefined,
  ) {
    this.target = ctx.target;
    res[kForward] = this;
    res.on('close', onClientClose);
  }

  clientClosed(): void {
    if (!this.done && this.abortUpstream) this.abortUpstream(Object.assign(new Error(CLIENT_CLOSED), { code: 'UND_ERR_ABORTED' }));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed) abort(Object.assign(new Error(CLIENT_CLOSED), { code: 'UND_ERR_ABORTED' }));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true;
    this.ttfb = performance.now() - this.start;
    this.status = status;
    this.resume = resume;
    const out: string[] = [];
    let contentType: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = latin1(raw[i] as Buffer);
      const value = latin1(raw[i + 1] as Buffer);
      if (LENGTHS.has(name.length)) {
        const lower = name.toLowerCase();
        if (lower === 'content-type') contentType = value;
        else if (lower === 'content-length') this.remaining = Number(value);
        else if (lower === 'sluice-outcome') this.outcome = value;
        else if (lower === 'sluice-boundary') this.boundarySafe = value.trim().toLowerCase() === 'safe';
        if (HOP.has(lower)) continue;
      }
      out.push(name, value);
    }
    if (this.setCookie !== undefined) out.push('set-cookie', this.setCookie);
    this.sniffer = UsageSniffer.for(contentType);
    this.res.writeHead(status, statusText, out);
    // Send the headers now: an SSE client should see the response start before the first event.
    if (contentType !== undefined && contentType.includes('event-stream')) this.res.flushHeaders();
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.sniffer !== undefined) this.sniffer.push(chunk);
    if (this.remaining === chunk.length) {
      // The last bytes of a sized body: end with them, one write instead of two.
      this.remaining = 0;
      this.res.end(chunk);
      return true;
    }
    if (this.remaining > 0) this.remaining -= chunk.length;
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resume as () => void);
    return false;
  }

  onComplete(): void {
    if (this.status === 0) return this.onError(Object.assign(new Error('the upstream closed without a response'), { code: 'UND_ERR_SOCKET' }));
    if (!this.res.writableEnded) this.res.end();
    this.finish(undefined);
  }

  onError(err: Error): void {
    const c = classify(err);
    if (c.error !== 'client-abort') {
      if (!this.res.headersSent) {
        sendError(
          this.res,
          c.status,
          `upstream of ${this.target.release} (${this.target.cohort}) failed: ${err.message}`,
          { release: this.target.release, cohort: this.target.cohort, reason: c.error },
          { where: this.upstreamUrl, message: err.message },
        );
      } else this.res.destroy();
    }
    if (this.status === 0) this.status = c.status;
    this.finish(c.error);
  }

  private finish(error: string | undefined): void {
    if (this.done) return;
    this.done = true;
    this.res[kForward] = undefined;
    this.sink.forwardDone(this.ctx, {
      status: this.status,
      ttfbMs: this.ttfb,
      latencyMs: performance.now() - this.start,
      bytes: this.bytes,
      outcome: this.outcome,
      boundarySafe: this.boundarySafe,
      usage: this.sniffer?.usage(),
      error,
    });
  }
}

/** A mirrored request: the response is read and dropped; only its outcome is kept. */
export class Mirror implements Dispatcher.DispatchHandler {
  private status = 0;
  private ttfb = 0;
  private bytes = 0;
  private outcome: string | undefined;
  private sniffer: UsageSniffer | undefined;
  private done = false;

  constructor(
    private readonly sink: ForwardSink,
    private readonly ctx: ForwardContext,
    private readonly start: number,
  ) {}

  onConnect(): void {}

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    this.status = status;
    this.ttfb = performance.now() - this.start;
    let contentType: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
      if (name === 'sluice-outcome') this.outcome = (raw[i + 1] as Buffer).toString('latin1');
      else if (name === 'content-type') contentType = (raw[i + 1] as Buffer).toString('latin1');
    }
    this.sniffer = UsageSniffer.for(contentType);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    this.sniffer?.push(chunk);
    return true;
  }

  onComplete(): void {
    this.finish(undefined);
  }

  onError(err: Error): void {
    const c = classify(err);
    if (this.status === 0) this.status = c.status;
    this.finish(c.error);
  }

  private finish(error: string | undefined): void {
    if (this.done) return;
    this.done = true;
    this.sink.mirrorDone(this.ctx, {
      status: this.status,
      ttfbMs: this.ttfb,
      latencyMs: performance.now() - this.start,
      bytes: this.bytes,
      outcome: this.outcome,
      boundarySafe: false,
      usage: this.sniffer?.usage(),
      error,
    });
  }
}
