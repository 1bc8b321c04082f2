/**
 * The one case where the gateway reads a request body: a route that takes its unit key or intent
 * from a JSON body path. The body is buffered up to a cap; past it routing goes on without the
 * body field and the buffered prefix plus the rest are streamed upstream unchanged.
 */
import type { IncomingMessage } from 'node:http';

export interface BufferedBody {
  /** The whole body when `complete`, else the prefix read so far. */
  prefix: Buffer;
  complete: boolean;
  /** Parsed JSON when complete and valid. */
  json: unknown;
  /** What to send upstream: the buffer, or the prefix followed by the rest of the stream. */
  upstream: Buffer | AsyncIterable<Buffer>;
}

export function readCapped(req: IncomingMessage, cap: number): Promise<BufferedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > cap) {
        cleanup();
        req.pause();
        const prefix = Buffer.concat(chunks, size);
        resolve({ prefix, complete: false, json: undefined, upstream: rest(prefix, req) });
      }
    };
    const onEnd = () => {
      cleanup();
      const body = Buffer.concat(chunks, size);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = undefined;
      }
      resolve({ prefix: body, complete: true, json, upstream: body });
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

async function* rest(prefix: Buffer, req: IncomingMessage): AsyncIterable<Buffer> {
  yield prefix;
  for await (const c of req) yield c as Buffer;
}

/** The string at a dotted path (`metadata.session_id`), or undefined. Numbers are stringified. */
export function bodyField(json: unknown, path: string[] | undefined): string | undefined {
  if (path === undefined || json === undefined) return undefined;
  let v: unknown = json;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
