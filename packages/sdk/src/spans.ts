/**
 * Spans in OpenTelemetry's GenAI semantic conventions, carrying the Sluice attributes that
 * let telemetry attribute each one to a release and cohort.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { SluiceContext } from './context.js';

const TRACER = 'sluice-sdk';

export interface SpanOptions {
  /** The conversation (session) this work belongs to: `gen_ai.conversation.id`. */
  session?: string;
  sluice?: SluiceContext;
  attributes?: Attributes;
}

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
}

function sluiceAttributes(opts: SpanOptions): Attributes {
  const a: Attributes = {};
  const s = opts.sluice;
  // Fall back to baggage so nested helpers keep the cohort without passing the context around.
  const bag = propagation.getBaggage(context.active());
  const release = s?.release ?? bag?.getEntry('sluice.release')?.value;
  const cohort = s?.cohort ?? bag?.getEntry('sluice.cohort')?.value;
  if (release) a['sluice.release'] = release;
  if (cohort) a['sluice.cohort'] = cohort;
  if (s?.digest) a['sluice.release.digest'] = s.digest;
  if (s?.rollout) a['sluice.rollout'] = s.rollout;
  if (opts.session) a['gen_ai.conversation.id'] = opts.session;
  return { ...a, ...opts.attributes };
}

async function inSpan<T>(name: string, kind: SpanKind, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  const tracer = trace.getTracer(TRACER);
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** `invoke_agent {agent}`: one turn of the agent. */
export function invokeAgent<T>(agent: string, opts: SpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  const version = opts.sluice?.release?.split('@')[1];
  return inSpan(`invoke_agent ${agent}`, SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'invoke_agent',
    'gen_ai.agent.name': agent,
    ...(version ? { 'gen_ai.agent.version': version } : {}),
    ...sluiceAttributes(opts),
  }, fn);
}

/** `execute_tool {tool}`: a tool call; a throw records `error.type` and is rethrown. */
export function executeTool<T>(tool: string, opts: SpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return inSpan(`execute_tool ${tool}`, SpanKind.INTERNAL, {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': tool,
    ...sluiceAttributes(opts),
  }, fn);
}

/**
 * `chat {model}`: a model call. If `fn` returns `{usage}` in OpenAI's shape
 * (`prompt_tokens`/`completion_tokens` or `input_tokens`/`output_tokens`), token counts are recorded.
 */
export function chat<T>(model: string, opts: SpanOptions & { provider?: string }, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return inSpan(`chat ${model}`, SpanKind.CLIENT, {
    'gen_ai.operation.name': 'chat',
    'gen_ai.request.model': model,
    ...(opts.provider ? { 'gen_ai.provider.name': opts.provider } : {}),
    ...sluiceAttributes(opts),
  }, async (span) => {
    const result = await fn(span);
    const usage = readUsage(result);
    if (usage.inputTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', usage.inputTokens);
    if (usage.outputTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', usage.outputTokens);
    return result;
  });
}

export function readUsage(result: unknown): Usage {
  const u = (result as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u || typeof u !== 'object') return {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    inputTokens: num(u.input_tokens) ?? num(u.prompt_tokens),
    outputTokens: num(u.output_tokens) ?? num(u.completion_tokens),
  };
}
