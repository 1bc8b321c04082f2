/**
 * One pass over the client's raw headers: pick out what routing needs and build the header list
 * sent upstream, dropping hop-by-hop headers and anything a client may not set (DESIGN.md
 * "Gateway headers": the gateway→upstream `sluice-*` set, `traceparent` and `baggage`, which the
 * gateway writes itself). Names are lower-cased only for candidates (by length), so the common
 * headers cost one length check each.
 */
import { randomFillSync } from 'node:crypto';

export interface RequestHeads {
  host: string | undefined;
  session: string | undefined;
  user: string | undefined;
  intent: string | undefined;
  cookie: string | undefined;
  traceparent: string | undefined;
  baggage: string | undefined;
  contentType: string | undefined;
  /** The request carries a body (content-length > 0 or transfer-encoding). */
  hasBody: boolean;
  /** Values of headers some route matches on (lower-case name → value); undefined if none. */
  matched: Map<string, string> | undefined;
  /** Headers to forward, flat [name, value, name, value, …]. */
  out: string[];
}

/** Header names (lower case) that are consumed or rewritten by the gateway and never forwarded. */
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  // node:http already answered 100 Continue to the client; undici refuses the header.
  'expect',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'traceparent',
  'tracestate',
  'baggage',
  'sluice-release',
  'sluice-release-digest',
  'sluice-cohort',
  'sluice-rollout',
  'sluice-memory-namespace',
  'sluice-constraints',
  'sluice-session',
]);
// Lengths of every name we look at; other lengths are forwarded without lower-casing.
const INTERESTING_LENGTHS = new Set<number>();
for (const n of [...DROP, 'sluice-user', 'sluice-intent', 'cookie', 'content-type', 'content-length']) INTERESTING_LENGTHS.add(n.length);

export function scanHeaders(raw: string[], matchNames: Set<string> | undefined): RequestHeads {
  const h: RequestHeads = {
    host: undefined,
    session: undefined,
    user: undefined,
    intent: undefined,
    cookie: undefined,
    traceparent: undefined,
    baggage: undefined,
    contentType: undefined,
    hasBody: false,
    matched: undefined,
    out: [],
  };
  const out = h.out;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (!INTERESTING_LENGTHS.has(name.length) && matchNames === undefined) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (matchNames !== undefined && matchNames.has(lower)) (h.matched ??= new Map()).set(lower, value);
    switch (lower) {
      case 'host':
        h.host = value;
        continue;
      case 'sluice-session':
        h.session = value;
        continue;
      case 'sluice-user':
        h.user = value;
        break;
      case 'sluice-intent':
        h.intent = value;
        break;
      case 'cookie':
        h.cookie = h.cookie === undefined ? value : `${h.cookie}; ${value}`;
        break;
      case 'traceparent':
        h.traceparent = value;
        continue;
      case 'baggage':
        h.baggage = h.baggage === undefined ? value : `${h.baggage},${value}`;
        continue;
      case 'content-type':
        h.contentType = value;
        break;
      case 'content-length':
        if (value !== '0') h.hasBody = true;
        break;
      case 'transfer-encoding':
        h.hasBody = true;
        continue;
    }
    if (!DROP.has(lower)) out.push(name, value);
  }
  return h;
}

/** The `sluice_session` cookie's value, if present. */
export function sessionCookie(cookie: string | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  const at = cookie.indexOf('sluice_session=');
  if (at < 0) return undefined;
  // Must start a cookie pair, not end another name (e.g. `xsluice_session=`).
  if (at > 0) {
    const before = cookie.charCodeAt(at - 1);
    if (before !== 0x20 && before !== 0x3b) return undefined;
  }
  const start = at + 'sluice_session='.length;
  const end = cookie.indexOf(';', start);
  const v = (end < 0 ? cookie.slice(start) : cookie.slice(start, end)).trim();
  return v.length > 0 ? v : undefined;
}

export const SESSION_COOKIE_ATTRS = '; HttpOnly; SameSite=Lax; Path=/';

const TRACEPARENT_RE = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The traceparent sent upstream: the client's if it is valid W3C trace context (so the agent's
 * spans join the client's trace), else a new one.
 */
export function traceparentFor(client: string | undefined): string {
  if (client !== undefined) {
    const m = TRACEPARENT_RE.exec(client);
    if (m && !client.startsWith('ff') && m[1] !== '00000000000000000000000000000000' && m[2] !== '0000000000000000') return client;
  }
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

// Random hex comes from a pooled string refilled in bulk: a slice of it costs no allocation of
// its own, which keeps trace ids off the hot path's cost.
const POOL_BYTES = 4096;
const POOL = Buffer.alloc(POOL_BYTES);
let hexPool = '';
let poolAt = POOL_BYTES * 2;
function randomHex(bytes: number): string {
  const chars = bytes * 2;
  if (poolAt + chars > hexPool.length) {
    randomFillSync(POOL);
    hexPool = POOL.toString('hex');
    poolAt = 0;
  }
  const s = hexPool.slice(poolAt, poolAt + chars);
  poolAt += chars;
  return s;
}

/**
 * Client baggage minus any `sluice.*` member (a client must not choose its cohort), followed by
 * the gateway's own members.
 */
export function baggageFor(client: string | undefined, ours: string): string {
  if (client === undefined || client.length === 0) return ours;
  if (!client.includes('sluice.')) return `${client},${ours}`;
  const kept = client
    .split(',')
    .filter((m) => !m.trim().startsWith('sluice.'))
    .join(',');
  return kept.length > 0 ? `${kept},${ours}` : ours;
}
