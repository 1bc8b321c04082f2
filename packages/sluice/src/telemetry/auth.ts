/**
 * Ingest authentication. Agents send spans with a bearer token; any valid, unrevoked token with
 * at least the `viewer` role may ingest (so the token an agent holds can never change a
 * rollout). Tokens are looked up in the control store and cached briefly: the store must stay
 * off the ingest path (DESIGN.md "Cost of the embedded store"), and a revocation takes effect
 * within `ttlMs`.
 */
import { SluiceError, forbidden, sha256 } from '@sluice/core';
import type { Queryable } from '../adapters/store/database.js';
import { roleAtLeast, type Role } from '../control/auth/roles.js';
import { findToken, type TokenInfo } from '../control/auth/tokens.js';

/** Resolves with the caller's token, or throws SluiceError (unauthenticated / forbidden). */
export type IngestAuthorizer = (authorization: string | undefined) => Promise<{ subject: string }>;

export function tokenAuthorizer(db: Queryable, opts: { role?: Role; ttlMs?: number } = {}): IngestAuthorizer {
  const need = opts.role ?? 'agent';
  const ttl = opts.ttlMs ?? 10_000;
  const cache = new Map<string, { token: TokenInfo | null; until: number }>();
  return async (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new SluiceError('unauthenticated', 'missing bearer token: send Authorization: Bearer <ingest token>');
    const key = sha256(m[1]!);
    const now = Date.now();
    let hit = cache.get(key);
    if (!hit || hit.until < now) {
      if (cache.size >= 1000) cache.clear();
      hit = { token: await findToken(db, m[1]!), until: now + ttl };
      cache.set(key, hit);
    }
    const token = hit.token;
    if (!token || token.revokedAt) throw new SluiceError('unauthenticated', token ? `token ${token.id} was revoked` : 'unknown token');
    if (!roleAtLeast(token.role, need)) throw forbidden(`${token.subject} (${token.role}) may not send telemetry: it needs the ${need} role`);
    return { subject: token.subject };
  };
}

/** A fixed set of secrets: for a standalone ingest process and tests. */
export function staticAuthorizer(tokens: Record<string, string>): IngestAuthorizer {
  return async (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new SluiceError('unauthenticated', 'missing bearer token: send Authorization: Bearer <ingest token>');
    const subject = tokens[m[1]!];
    if (subject === undefined) throw new SluiceError('unauthenticated', 'unknown token');
    return { subject };
  };
}
