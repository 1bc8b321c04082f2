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

/**
 * Where a batch names its sessions and traces, so a sender can make each pass over its batches
 * new to the server (see `renewBatch`): session ids carry the fixed-width marker `PASS_MARK`, and
 * `traceIds` lists the raw 16-byte trace ids the batch's spans carry.
 */
export const PASS_MARK = 'p0000000';
export interface Batch {
  bytes: Uint8Array;
  traceIds: Uint8Array[];
}

/** `batches` payloads of `batchSize` spans each; sessions are unique across the set (prefix). */
export function buildBatches(prefix: string, batches: number, batchSize: number): Batch[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-agent', 'service.version': '1.1.0', 'host.name': 'agent-7f9c' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('support-agent', '1.1.0');
  const out: Batch[] = [];
  let session = 0;
  const t0 = Date.now();
  while (out.length < batches) {
    const canary = session % 10 === 0;
    // 1 root + 1 chat + 3 tools = 5 spans per session, with the usual GenAI attributes.
    emitSession(
      tracer,
      {
        session: `${prefix}-${PASS_MARK}-${session}`,
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
      const batch = spans.slice(0, batchSize);
      const traceIds = [...new Set(batch.map((sp) => sp.spanContext().traceId))].map((hex) => Buffer.from(hex, 'hex'));
      out.push({ bytes: ProtobufTraceSerializer.serializeRequest(batch)!, traceIds });
      exporter.reset();
    }
  }
  return out;
}

/**
 * A copy of `batch` whose sessions and traces are new for pass `pass`: the session marker becomes
 * the pass number (same width, so no protobuf length changes) and every trace id has its last
 * four bytes XORed with it. Offsets are found once per batch (`locate`).
 */
export function locate(batch: Batch): { marks: number[]; traces: number[] } {
  const buf = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const find = (needle: Uint8Array) => {
    const at: number[] = [];
    for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) at.push(i);
    return at;
  };
  return { marks: find(Buffer.from(PASS_MARK)), traces: batch.traceIds.flatMap(find) };
}

export function renewBatch(batch: Batch, where: { marks: number[]; traces: number[] }, pass: number): Uint8Array {
  if (pass === 0) return batch.bytes;
  const out = Buffer.from(batch.bytes);
  const mark = `p${String(pass).padStart(PASS_MARK.length - 1, '0')}`;
  for (const i of where.marks) out.write(mark, i, 'latin1');
  for (const i of where.traces) out.writeUInt32BE((out.readUInt32BE(i + 12) ^ pass) >>> 0, i + 12);
  return out;
}
