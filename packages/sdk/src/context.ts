import { context, propagation, trace, TraceFlags, type Context, type SpanContext } from '@opentelemetry/api';
import { parseConstraints, type Constraints } from './constraints.js';
import { HEADERS, headerReader, type HeaderSource } from './headers.js';

export type Cohort = 'baseline' | 'canary' | 'shadow';

/** What the gateway told this request about the release serving it. */
export interface SluiceContext {
  /** `agent@version`, or undefined when the request did not come through a Sluice gateway. */
  release?: string;
  digest?: string;
  cohort?: Cohort;
  rollout?: string;
  memoryNamespace?: string;
  constraints: Constraints;
  /** The remote parent span from `traceparent`, when valid. */
  parent?: SpanContext;
  /** Baggage entries from the `baggage` header (`sluice.release`, `sluice.cohort`, …). */
  baggage: Record<string, string>;
}

const COHORTS = new Set<string>(['baseline', 'canary', 'shadow']);
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Read the Sluice context from incoming request headers (any Node HTTP framework). */
export function sluiceContext(source: HeaderSource): SluiceContext {
  const get = headerReader(source);
  const cohort = get(HEADERS.cohort)?.trim();
  return {
    release: get(HEADERS.release)?.trim() || undefined,
    digest: get(HEADERS.digest)?.trim() || undefined,
    cohort: cohort && COHORTS.has(cohort) ? (cohort as Cohort) : undefined,
    rollout: get(HEADERS.rollout)?.trim() || undefined,
    memoryNamespace: get(HEADERS.memoryNamespace)?.trim() || undefined,
    constraints: parseConstraints(get(HEADERS.constraints)),
    parent: parseTraceparent(get(HEADERS.traceparent)),
    baggage: parseBaggage(get(HEADERS.baggage)),
  };
}

export function parseTraceparent(header: string | undefined): SpanContext | undefined {
  const m = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  // Version ff is forbidden, and all-zero ids are invalid (W3C Trace Context §3.2).
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** W3C Baggage: `key=value;property,key2=value2`, values percent-encoded. */
export function parseBaggage(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const member of header.split(',')) {
    const [pair] = member.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      // A malformed escape drops that one entry, not the request.
    }
  }
  return out;
}

/**
 * Build an OpenTelemetry context that continues the gateway's trace and carries Sluice baggage,
 * without needing a globally registered propagator.
 */
export function otelContextFor(ctx: SluiceContext, base: Context = context.active()): Context {
  let out = ctx.parent ? trace.setSpanContext(base, ctx.parent) : base;
  const entries: Record<string, { value: string }> = {};
  for (const [k, v] of Object.entries(ctx.baggage)) entries[k] = { value: v };
  if (ctx.release) entries['sluice.release'] = { value: ctx.release };
  if (ctx.cohort) entries['sluice.cohort'] = { value: ctx.cohort };
  if (Object.keys(entries).length > 0) out = propagation.setBaggage(out, propagation.createBaggage(entries));
  return out;
}

/** Run `fn` with the gateway's trace and Sluice baggage active. */
export function withSluiceContext<T>(ctx: SluiceContext, fn: () => T): T {
  return context.with(otelContextFor(ctx), fn);
}
