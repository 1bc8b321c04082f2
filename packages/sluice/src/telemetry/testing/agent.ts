/**
 * A simulated agent for tests and benchmarks: emits the GenAI spans a real agent would, through
 * the official OpenTelemetry SDK and OTLP exporters, so ingest is exercised by real clients.
 */
import { context, trace, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface AgentOptions {
  url: string;
  token: string;
  format: 'protobuf' | 'json';
  /** `simple` exports every span as it ends (children before their root); `batch` batches. */
  processor?: 'simple' | 'batch';
  compression?: 'gzip' | 'none';
}

export function agentTracer(opts: AgentOptions): { tracer: Tracer; flush: () => Promise<void>; shutdown: () => Promise<void> } {
  const config = {
    url: `${opts.url}/v1/traces`,
    headers: { Authorization: `Bearer ${opts.token}` },
    // Simple processors export span by span: let them all be in flight at once.
    concurrencyLimit: 1000,
    ...(opts.compression ? { compression: opts.compression as never } : {}),
  };
  const exporter = opts.format === 'protobuf' ? new ProtoExporter(config) : new JsonExporter(config);
  const processor = opts.processor === 'batch' ? new BatchSpanProcessor(exporter, { maxExportBatchSize: 512, scheduledDelayMillis: 50 }) : new SimpleSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'support-agent' }), spanProcessors: [processor] });
  return { tracer: provider.getTracer('sluice-test'), flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

export interface SessionScript {
  session: string;
  release: string;
  cohort: 'baseline' | 'canary';
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Tool names in call order; a name ending in `!` fails with error.type. */
  tools?: string[];
  outcome?: 'resolved' | 'escalated' | 'failed' | 'abandoned';
  feedback?: number;
  /** Extra attributes on the root span. */
  attributes?: Record<string, string | number | boolean>;
}

/**
 * One session as an agent traces it: an `invoke_agent` root carrying the session and release,
 * a `chat` child with usage and one `execute_tool` child per tool. Children carry no session of
 * their own: ingest ties them to the session through their trace.
 */
export function emitSession(tracer: Tracer, s: SessionScript, startMs = Date.now()): void {
  const root = tracer.startSpan('invoke_agent support-agent', {
    startTime: startMs,
    attributes: {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'support-agent',
      'gen_ai.conversation.id': s.session,
      'sluice.release': s.release,
      'sluice.cohort': s.cohort,
      ...(s.outcome ? { 'sluice.outcome': s.outcome } : {}),
      ...(s.feedback !== undefined ? { 'sluice.feedback.score': s.feedback } : {}),
      ...s.attributes,
    },
  });
  const ctx = trace.setSpan(context.active(), root);
  const chat = tracer.startSpan(
    `chat ${s.model ?? 'gpt-4o-mini'}`,
    {
      startTime: startMs + 1,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': s.model ?? 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': s.inputTokens ?? 0,
        'gen_ai.usage.output_tokens': s.outputTokens ?? 0,
      },
    },
    ctx,
  );
  chat.end(startMs + 50);
  (s.tools ?? []).forEach((raw, i) => {
    const failed = raw.endsWith('!');
    const name = failed ? raw.slice(0, -1) : raw;
    const tool = tracer.startSpan(
      `execute_tool ${name}`,
      { startTime: startMs + 100 + i * 10, attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, ...(failed ? { 'error.type': 'ToolError' } : {}) } },
      ctx,
    );
    if (failed) tool.setStatus({ code: SpanStatusCode.ERROR, message: 'tool failed' });
    tool.end(startMs + 105 + i * 10);
  });
  root.end(startMs + 500);
}
