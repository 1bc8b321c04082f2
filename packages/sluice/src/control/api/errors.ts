import { HTTP_STATUS, isSluiceError, SluiceError, type ErrorDetail } from '@sluice/core';
import type { Context } from 'hono';
import type { ZodError } from 'zod';

/** Zod issues as Sluice details: `where` is a JSON pointer into the request part. */
export function zodDetails(error: ZodError, part: string): ErrorDetail[] {
  return error.issues.map((i) => ({
    where: `${part}${i.path.length ? `/${i.path.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}` : ''}`,
    message: i.message,
  }));
}

export function toSluiceError(err: unknown): SluiceError {
  if (isSluiceError(err)) return err;
  // A unique index catching a race (e.g. two rollouts started at once for one agent).
  const code = (err as { code?: string } | null)?.code;
  if (code === '23505') return new SluiceError('conflict', `conflicting change: ${(err as Error).message}`);
  return new SluiceError('failed', err instanceof Error ? err.message : String(err));
}

export function errorResponse(c: Context, err: unknown): Response {
  const e = toSluiceError(err);
  // What we did not anticipate (the store went away, a bug) is the server's fault: 500, not 422.
  const unexpected = !isSluiceError(err) && (err as { code?: string } | null)?.code !== '23505';
  return c.json(e.toJSON(), (unexpected ? 500 : HTTP_STATUS[e.kind]) as 400);
}
