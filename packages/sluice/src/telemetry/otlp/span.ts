/**
 * One decoded span, the same whichever wire format it came in. Attribute values keep OTLP's
 * shapes (string, number, boolean, arrays and maps of those); 64-bit integers become numbers,
 * which is exact for every count and duration Sluice reads.
 */
export type AttrValue = string | number | boolean | AttrValue[] | { [key: string]: AttrValue } | null;
export type Attributes = Record<string, AttrValue>;

export interface SpanView {
  /** Lower-case hex, 32 characters. */
  traceId: string;
  /** Lower-case hex, 16 characters. */
  spanId: string;
  name: string;
  /** Unix epoch milliseconds. */
  startMs: number;
  durationMs: number;
  /** Status code ERROR (2). */
  error: boolean;
  attributes: Attributes;
  /** The resource's attributes, shared by every span of one ResourceSpans. */
  resource: Attributes;
}

export interface DecodedBatch {
  spans: SpanView[];
  /** Spans refused one by one (bad ids); the rest of the batch is kept. */
  rejected: number;
  /** Why spans were refused, a few examples at most. */
  errors: string[];
}

/** Span attributes win over resource attributes, as in the OpenTelemetry data model. */
export function attr(span: SpanView, key: string): AttrValue | undefined {
  const v = span.attributes[key];
  return v !== undefined ? v : span.resource[key];
}

export function attrString(span: SpanView, key: string): string | undefined {
  const v = attr(span, key);
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function attrNumber(span: SpanView, key: string): number | undefined {
  const v = attr(span, key);
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

export class BatchBuilder {
  readonly spans: SpanView[] = [];
  rejected = 0;
  readonly errors: string[] = [];

  reject(message: string): void {
    this.rejected++;
    if (this.errors.length < 5) this.errors.push(message);
  }

  build(): DecodedBatch {
    return { spans: this.spans, rejected: this.rejected, errors: this.errors };
  }
}
