/**
 * Realistic OTLP payloads: GenAI sessions traced by the official OpenTelemetry SDK and encoded
 * by the official OTLP protobuf serializer, exactly the bytes an agent's exporter sends.
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { emitSession } from '../../packages/sluice/src/telemetry/testing/agent.js';

export const BENCH_ROLLOUT = {
  id: 'ro_bench',
  agent: 'support-agent',
  strategy: 'canary' as const,
  baseline: { release: 'support-agent@1.0.0' },
  candidate: { release: 'support-agent@1.1.0' },
};

/** `batches` payloads of `batchSize` spans each; sessions are unique across the set (prefix). */
export function buildBatches(prefix: string, batches: number, batchSize: number): Uint8Array[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent', 'service.version': '1.1.0', 'host.name': 'agent-7f9c' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('support-agent', '1.1.0');
  const out: Uint8Array[] = [];
  let session = 0;
  const t0 = Date.now();
  while (out.length < batches) {
    const canary = session % 10 === 0;
    // 1 root + 1 chat + 3 tools = 5 spans per session, with the usual GenAI attributes.
    emitSession(
      tracer,
      {
        session: `${prefix}-${session}`,
        release: canary ? 'support-agent@1.1.0' : 'support-agent@1.0.0',
        cohort: canary ? 'canary' : 'baseline',
        model: 'gpt-4o-mini',
        inputTokens: 1200 + (session % 300),
        outputTokens: 150 + (session % 50),
        tools: session % 7 === 0 ? ['lookup_order', 'issue_refund!', 'lookup_order'] : ['lookup_order', 'search_kb', 'issue_refund'],
        outcome: session % 12 === 0 ? 'escalated' : 'resolved',
        feedback: 1 + (session % 5),
        attributes: { 'gen_ai.provider.name': 'openai', 'user.tier': 'pro' },
      },
      t0 + session,
    );
    session++;
    const spans = exporter.getFinishedSpans();
    if (spans.length >= batchSize) {
      out.push(ProtobufTraceSerializer.serializeRequest(spans.slice(0, batchSize))!);
      exporter.reset();
    }
  }
  return out;
}
