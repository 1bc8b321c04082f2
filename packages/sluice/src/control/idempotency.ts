/**
 * Idempotent commands. A client sends `Idempotency-Key`; the first response is stored in the
 * same transaction as the change it made, so a retry (say, after the server died before
 * answering) gets that response back and changes nothing. A key reused for a different request
 * is refused rather than silently answered with someone else's result.
 */
import { conflict, sha256 } from '@sluice/core';
import type { Queryable } from '../adapters/store/database.js';

export interface StoredResponse {
  status: number;
  body: unknown;
}

export function requestHash(method: string, path: string, body: unknown): string {
  return sha256(`${method} ${path}\n${JSON.stringify(body ?? null)}`);
}

export async function findResponse(q: Queryable, subject: string, key: string, hash: string): Promise<StoredResponse | null> {
  const r = await q.query<{ request_hash: string; status: number; body: unknown }>(
    'SELECT request_hash, status, body FROM idempotency WHERE subject = $1 AND key = $2',
    [subject, key],
  );
  const row = r.rows[0];
  if (!row) return null;
  if (row.request_hash !== hash) {
    throw conflict(`Idempotency-Key ${JSON.stringify(key)} was already used for a different request`, [
      { where: 'Idempotency-Key', message: 'use a new key for a new request' },
    ]);
  }
  return { status: Number(row.status), body: row.body };
}

export async function saveResponse(tx: Queryable, subject: string, key: string, hash: string, res: StoredResponse): Promise<void> {
  await tx.query('INSERT INTO idempotency (subject, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    subject,
    key,
    hash,
    res.status,
    JSON.stringify(res.body ?? null),
    new Date().toISOString(),
  ]);
}
