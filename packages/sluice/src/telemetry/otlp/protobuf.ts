/** OTLP/HTTP protobuf (`application/x-protobuf`) to SpanView. */
import { invalid } from '@sluice/core';
import { BatchBuilder, type Attributes, type AttrValue, type DecodedBatch } from './span.js';
import { ExportTraceServiceRequest, type Int64, type PbAnyValue, type PbKeyValue, type PbRequest } from './schema.js';

const toNumber = (v: Int64 | null | undefined): number =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

function anyValue(v: PbAnyValue | null | undefined): AttrValue {
  // protobufjs exposes which member of the oneof is set; the others read as defaults.
  switch (v?.value) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'intValue':
      return toNumber(v.intValue);
    case 'doubleValue':
      return v.doubleValue ?? 0;
    case 'boolValue':
      return v.boolValue ?? false;
    case 'arrayValue':
      return (v.arrayValue?.values ?? []).map(anyValue);
    case 'kvlistValue':
      return attributes(v.kvlistValue?.values ?? []);
    case 'bytesValue':
      return Buffer.from(v.bytesValue ?? []).toString('base64');
    default:
      return null;
  }
}

function attributes(list: PbKeyValue[]): Attributes {
  const out: Attributes = {};
  for (const kv of list) out[kv.key] = anyValue(kv.value);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function decodeProtobuf(body: Uint8Array): DecodedBatch {
  let req: PbRequest;
  try {
    req = ExportTraceServiceRequest.decode(body) as unknown as PbRequest;
  } catch (err) {
    throw invalid('the body is not an OTLP ExportTraceServiceRequest', [
      { where: 'body', message: err instanceof Error ? err.message : String(err) },
    ]);
  }
  const out = new BatchBuilder();
  req.resourceSpans.forEach((rs, r) => {
    const resource = attributes(rs.resource?.attributes ?? []);
    rs.scopeSpans.forEach((ss, s) => {
      ss.spans.forEach((span, i) => {
        if (span.traceId.length !== 16 || span.spanId.length !== 8) {
          out.reject(`resourceSpans[${r}].scopeSpans[${s}].spans[${i}]: trace_id must be 16 bytes and span_id 8 bytes`);
          return;
        }
        const start = toNumber(span.startTimeUnixNano);
        const end = toNumber(span.endTimeUnixNano);
        out.spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          name: span.name,
          startMs: start / 1e6,
          durationMs: Math.max(0, (end - start) / 1e6),
          error: span.status?.code === 2,
          attributes: attributes(span.attributes),
          resource,
        });
      });
    });
  });
  return out.build();
}
