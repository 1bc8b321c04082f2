/**
 * Bearer-token authentication and role checks, as per-route middleware so every route states
 * the role it needs (and the OpenAPI document says it too, as `x-sluice-role`).
 */
import { SluiceError, forbidden } from '@sluice/core';
import type { MiddlewareHandler } from 'hono';
import type { Queryable } from '../../adapters/store/database.js';
import { roleAtLeast, type Role } from '../auth/roles.js';
import { findToken, type TokenInfo } from '../auth/tokens.js';
import { errorResponse } from './errors.js';

export interface AuthVariables {
  token: TokenInfo;
}

export function authenticate(db: Queryable, need: Role): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      c.header('WWW-Authenticate', 'Bearer realm="sluice"');
      return errorResponse(c, new SluiceError('unauthenticated', 'missing bearer token: send Authorization: Bearer <token>'));
    }
    const token = await findToken(db, m[1]!);
    if (!token || token.revokedAt) {
      c.header('WWW-Authenticate', 'Bearer realm="sluice", error="invalid_token"');
      return errorResponse(c, new SluiceError('unauthenticated', token ? `token ${token.id} was revoked at ${token.revokedAt}` : 'unknown token'));
    }
    if (!roleAtLeast(token.role, need)) {
      return errorResponse(c, forbidden(`${token.subject} (${token.role}) may not do this: it needs the ${need} role`));
    }
    c.set('token', token);
    await next();
  };
}
