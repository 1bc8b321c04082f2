/**
 * OTLP/HTTP trace ingest (`POST /v1/traces`, protobuf and JSON, gzip accepted) and business
 * events (`POST /v1/events`), as a Hono app the control API mounts (or a process serves alone).
 *
 * Overload: every traces request goes through the bounded `IngestQueue`. When it is full the
 * answer is 429 with `Retry-After` (the OTLP exporters retry on it), and the refusal is counted
 * on `/metrics` — nothing is accepted and then dropped.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCb, inflate as inflateCb } from 'node:zlib';
import { HTTP_STATUS, SluiceError, errorKindForStatus, invalid, isSluiceError } from '@sluice/core';
import { Hono, type Context } from 'hono';
import type { TelemetryAggregator } from './aggregate/aggregator.js';
import type { IngestAuthorizer } from './auth.js';
import { parseEvents } from './events.js';
import { emptyIngestCounters, type IngestCounters } from './metrics.js';
import { decodeJson } from './otlp/json.js';
import { decodeProtobuf } from './otlp/protobuf.js';
import { ExportTraceServiceResponse, RpcStatus } from './otlp/schema.js';
import type { DecodedBatch } from './otlp/span.js';
import { IngestQueue } from './queue.js';

const gunzip = promisify(gunzipCb);
const inflate = promisify(inflateCb);

export interface IngestAppDeps {
  aggregator: TelemetryAggregator;
  authorize: IngestAuthorizer;
  queue?: IngestQueue;
  counters?: IngestCounters;
  /** Largest request body, compressed or not (default 16 MiB). */
  maxBodyBytes?: number;
}

type Format = 'protobuf' | 'json';

/** OTLP's own error body: a google.rpc.Status, in the request's encoding. */
function otlpError(c: Context, format: Format, status: number, message: string, headers: Record<string, string> = {}): Response {
  // gRPC codes: 3 invalid argument, 8 resource exhausted, 16 unauthenticated, 7 permission denied.
  const code = status === 429 || status === 413 ? 8 : status === 401 ? 16 : status === 403 ? 7 : 3;
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  if (format === 'protobuf') {
    const body = RpcStatus.encode(RpcStatus.create({ code, message })).finish();
    return c.body(body as Uint8Array<ArrayBuffer>, status as 400, { 'content-type': 'application/x-protobuf' });
  }
  // JSON: the Status fields OTLP clients read, plus Sluice's own error object, so the ingest
  // answers like every other endpoint of the API too (unknown fields are ignored by OTLP clients).
  return c.json({ code, message, error: { kind: errorKindForStatus(status), message, details: [] } }, status as 400);
}


function formatOf(contentType: string | undefined): Format | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === 'application/x-protobuf' || t === 'application/protobuf') return 'protobuf';
  if (t === 'application/json') return 'json';
  return undefined;
}

async function decompress(body: Uint8Array, encoding: string | undefined, max: number): Promise<Uint8Array> {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return body;
  if (e === 'gzip') return gunzip(body, { maxOutputLength: max });
  if (e === 'deflate') return inflate(body, { maxOutputLength: max });
  throw invalid(`Content-Encoding ${e} is not supported: send gzip, deflate or none`, [{ where: 'Content-Encoding', message: e }]);
}

export function createIngestApp(deps: IngestAppDeps): Hono {
  const app = new Hono();
  const queue = deps.queue ?? new IngestQueue();
  const counters = deps.counters ?? emptyIngestCounters();
  const maxBody = deps.maxBodyBytes ?? 16 * 1024 * 1024;

  app.post('/v1/traces', async (c) => {
    const format = formatOf(c.req.header('content-type'));
    if (!format) {
      counters.refused['bad-request']++;
      return otlpError(c, 'json', 415, 'Content-Type must be application/x-protobuf or application/json');
    }
    try {
      await deps.authorize(c.req.header('authorization'));
    } catch (err) {
      counters.refused.auth++;
      const e = isSluiceError(err) ? err : new SluiceError('unauthenticated', String(err));
      return otlpError(c, format, HTTP_STATUS[e.kind], e.message, e.kind === 'unauthenticated' ? { 'WWW-Authenticate': 'Bearer realm="sluice"' } : {});
    }
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > maxBody) {
      counters.refused['too-large']++;
      return otlpError(c, format, 413, `request body over ${maxBody} bytes`);
    }
    // Refuse before reading the body when it could not be queued anyway.
    if (!queue.hasRoom(declared)) {
      counters.refused.overload++;
      queue.refuse();
      return otlpError(c, format, 429, 'ingest queue full, retry later', { 'Retry-After': String(queue.retryAfterSeconds()) });
    }
    let body: Uint8Array;
    try {
      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (raw.byteLength > maxBody) throw new SluiceError('invalid', `request body over ${maxBody} bytes`);
      body = await decompress(raw, c.req.header('content-encoding'), maxBody * 4);
    } catch (err) {
      const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || (isSluiceError(err) && err.message.includes('bytes'));
      counters.refused[tooLarge ? 'too-large' : 'bad-request']++;
      return otlpError(c, format, tooLarge ? 413 : 400, err instanceof Error ? `cannot read the body: ${err.message}` : 'cannot read the body');
    }
    const work = queue.offer(body.byteLength, (): DecodedBatch => {
      const batch = format === 'protobuf' ? decodeProtobuf(body) : decodeJson(JSON.parse(Buffer.from(body).toString('utf8')));
      deps.aggregator.ingestSpans(batch);
      return batch;
    });
    if (!work) {
      counters.refused.overload++;
      return otlpError(c, format, 429, 'ingest queue full, retry later', { 'Retry-After': String(queue.retryAfterSeconds()) });
    }
    let batch: DecodedBatch;
    try {
      batch = await work;
    } catch (err) {
      counters.refused['bad-request']++;
      const message = isSluiceError(err) ? [err.message, ...err.details.map((d) => d.message)].join(': ') : `the body is not valid JSON: ${(err as Error).message}`;
      return otlpError(c, format, 400, message);
    }
    counters.spansAccepted += batch.spans.length;
    counters.spansRejected += batch.rejected;
    const partial = batch.rejected > 0 ? { rejectedSpans: batch.rejected, errorMessage: batch.errors.join('; ') } : undefined;
    if (format === 'protobuf') {
      const msg = ExportTraceServiceResponse.create(partial ? { partialSuccess: partial } : {});
      return c.body(ExportTraceServiceResponse.encode(msg).finish() as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-protobuf' });
    }
    return c.json(partial ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage } } : {}, 200);
  });

  app.post('/v1/events', async (c) => {
    try {
      await deps.authorize(c.req.header('authorization'));
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (err) {
        throw invalid('the body is not valid JSON', [{ where: 'body', message: (err as Error).message }]);
      }
      const events = parseEvents(body);
      for (const e of events) deps.aggregator.ingestEvent(e);
      counters.events += events.length;
      return c.json({ accepted: events.length }, 202);
    } catch (err) {
      const e = isSluiceError(err) ? err : new SluiceError('failed', String(err));
      if (e.kind === 'unauthenticated' || e.kind === 'forbidden') counters.refused.auth++;
      else counters.refused['bad-request']++;
      if (e.kind === 'unauthenticated') c.header('WWW-Authenticate', 'Bearer realm="sluice"');
      return c.json(e.toJSON(), HTTP_STATUS[e.kind] as 400);
    }
  });

  return app;
}
