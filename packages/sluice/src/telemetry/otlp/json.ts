/**
 * OTLP/HTTP JSON (`application/json`): the protobuf JSON mapping with OTLP's exceptions —
 * trace and span ids are hex strings, enums are integers, 64-bit integers may be strings.
 * Field names are lowerCamelCase; the snake_case spelling is accepted too, as protobuf JSON
 * parsers do.
 */
import { invalid } from '@sluice/core';
import { BatchBuilder, type Attributes, type AttrValue, type DecodedBatch } from './span.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (o: Obj, camel: string, snake: string): unknown => (o[camel] !== undefined ? o[camel] : o[snake]);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function int(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return 0;
}

function anyValue(v: unknown): AttrValue {
  if (!isObj(v)) return null;
  const str = field(v, 'stringValue', 'string_value');
  if (str !== undefined) return String(str);
  const i = field(v, 'intValue', 'int_value');
  if (i !== undefined) return int(i);
  const d = field(v, 'doubleValue', 'double_value');
  if (d !== undefined) return Number(d);
  const b = field(v, 'boolValue', 'bool_value');
  if (b !== undefined) return b === true || b === 'true';
  const arr = field(v, 'arrayValue', 'array_value');
  if (isObj(arr)) return list(arr.values).map(anyValue);
  const kv = field(v, 'kvlistValue', 'kvlist_value');
  if (isObj(kv)) return attributes(kv.values);
  const bytes = field(v, 'bytesValue', 'bytes_value');
  if (bytes !== undefined) return String(bytes);
  return null;
}

function attributes(raw: unknown): Attributes {
  const out: Attributes = {};
  for (const kv of list(raw)) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

const TRACE_ID = /^[0-9a-fA-F]{32}$/;
const SPAN_ID = /^[0-9a-fA-F]{16}$/;

/** Nanosecond timestamps exceed 2^53; parse the string form without going through a double first. */
function nanosToMs(v: unknown): number {
  if (typeof v === 'string' && v.length > 6) return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
  return int(v) / 1e6;
}

export function decodeJson(body: unknown): DecodedBatch {
  if (!isObj(body)) throw invalid('the body is not an OTLP ExportTraceServiceRequest', [{ where: '/', message: 'expected a JSON object' }]);
  const resourceSpans = field(body, 'resourceSpans', 'resource_spans');
  if (resourceSpans !== undefined && !Array.isArray(resourceSpans)) {
    throw invalid('the body is not an OTLP ExportTraceServiceRequest', [{ where: '/resourceSpans', message: 'expected an array' }]);
  }
  const out = new BatchBuilder();
  list(resourceSpans).forEach((rs, r) => {
    if (!isObj(rs)) return out.reject(`/resourceSpans/${r}: expected an object`);
    const res = rs.resource;
    const resource = isObj(res) ? attributes(res.attributes) : {};
    list(field(rs, 'scopeSpans', 'scope_spans')).forEach((ss, s) => {
      if (!isObj(ss)) return;
      list(ss.spans).forEach((span, i) => {
        const where = `/resourceSpans/${r}/scopeSpans/${s}/spans/${i}`;
        if (!isObj(span)) return out.reject(`${where}: expected an object`);
        const traceId = field(span, 'traceId', 'trace_id');
        const spanId = field(span, 'spanId', 'span_id');
        if (typeof traceId !== 'string' || !TRACE_ID.test(traceId)) return out.reject(`${where}/traceId: expected 32 hex digits`);
        if (typeof spanId !== 'string' || !SPAN_ID.test(spanId)) return out.reject(`${where}/spanId: expected 16 hex digits`);
        const startMs = nanosToMs(field(span, 'startTimeUnixNano', 'start_time_unix_nano'));
        const endMs = nanosToMs(field(span, 'endTimeUnixNano', 'end_time_unix_nano'));
        const status = span.status;
        out.spans.push({
          traceId: traceId.toLowerCase(),
          spanId: spanId.toLowerCase(),
          name: typeof span.name === 'string' ? span.name : '',
          startMs,
          durationMs: Math.max(0, endMs - startMs),
          error: isObj(status) && (status.code === 2 || status.code === 'STATUS_CODE_ERROR'),
          attributes: attributes(span.attributes),
          resource,
        });
      });
    });
  });
  return out.build();
}
