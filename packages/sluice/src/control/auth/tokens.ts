/**
 * API tokens. The secret is shown once, when the token is made; the store keeps only its
 * SHA-256, so a copy of the database cannot be used to call the API.
 */
import { randomBytes } from 'node:crypto';
import { conflict, notFound, sha256 } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import type { Role } from './roles.js';

export interface TokenInfo {
  id: string;
  subject: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

interface TokenRow {
  id: string;
  subject: string;
  role: Role;
  created_at: string;
  created_by: string;
  revoked_at: string | null;
}

const fromRow = (r: TokenRow): TokenInfo => ({
  id: r.id,
  subject: r.subject,
  role: r.role,
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
});

export const hashToken = (secret: string) => sha256(secret);

/** `slt_<id>_<secret>`: the id part lets people tell tokens apart in lists and logs. */
export function newTokenSecret(): { id: string; secret: string } {
  const id = randomBytes(6).toString('hex');
  return { id: `tok_${id}`, secret: `slt_${id}_${randomBytes(24).toString('base64url')}` };
}

export async function createToken(tx: Queryable, input: { subject: string; role: Role; createdBy: string; at?: string }): Promise<{ token: string; info: TokenInfo }> {
  const { id, secret } = newTokenSecret();
  const at = input.at ?? new Date().toISOString();
  await tx.query('INSERT INTO tokens (id, subject, role, hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [
    id,
    input.subject,
    input.role,
    hashToken(secret),
    at,
    input.createdBy,
  ]);
  return { token: secret, info: { id, subject: input.subject, role: input.role, createdAt: at, createdBy: input.createdBy, revokedAt: null } };
}

/** The token a secret stands for, if any (revoked ones included: the caller says 401 either way). */
export async function findToken(q: Queryable, secret: string): Promise<TokenInfo | null> {
  const r = await q.query<TokenRow>('SELECT id, subject, role, created_at, created_by, revoked_at FROM tokens WHERE hash = $1', [hashToken(secret)]);
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

export async function listTokens(q: Queryable): Promise<TokenInfo[]> {
  const r = await q.query<TokenRow>('SELECT id, subject, role, created_at, created_by, revoked_at FROM tokens ORDER BY created_at, id');
  return r.rows.map(fromRow);
}

export async function getToken(q: Queryable, id: string): Promise<TokenInfo> {
  const r = await q.query<TokenRow>('SELECT id, subject, role, created_at, created_by, revoked_at FROM tokens WHERE id = $1', [id]);
  if (!r.rows[0]) throw notFound(`no token ${id}`, [{ where: 'id', message: 'unknown token id' }]);
  return fromRow(r.rows[0]);
}

export async function revokeToken(tx: Queryable, id: string, at = new Date().toISOString()): Promise<{ before: TokenInfo; after: TokenInfo }> {
  const before = await getToken(tx, id);
  if (before.revokedAt) throw conflict(`token ${id} was already revoked at ${before.revokedAt}`);
  await tx.query('UPDATE tokens SET revoked_at = $2 WHERE id = $1', [id, at]);
  return { before, after: { ...before, revokedAt: at } };
}

export async function countTokens(q: Queryable): Promise<number> {
  const r = await q.query<{ n: number }>('SELECT count(*)::integer AS n FROM tokens');
  return Number(r.rows[0]?.n ?? 0);
}
