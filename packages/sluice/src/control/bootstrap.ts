/**
 * First start: when the store has no token at all, create an admin token, return its secret
 * (printed once by `sluice up`) and write it to `<dataDir>/admin-token` (mode 0600) so the CLI
 * on the same machine works without copying it. Later starts never show it again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_KEYS, lockInTransaction, type Database } from '../adapters/store/database.js';
import { appendAudit } from './audit/chain.js';
import { countTokens, createToken } from './auth/tokens.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

export async function bootstrapAdmin(db: Database, dataDir: string): Promise<{ token: string; file: string } | null> {
  const created = await db.transaction(async (tx) => {
    // Replicas starting together take turns; the second finds the token made.
    await lockInTransaction(tx, LOCK_KEYS.migrations);
    if ((await countTokens(tx)) > 0) return null;
    const t = await createToken(tx, { subject: 'admin', role: 'admin', createdBy: 'sluice' });
    await appendAudit(tx, { actor: 'sluice', action: 'token.create', target: `token/${t.info.id}`, reason: 'first start: bootstrap admin token', after: t.info });
    return t;
  });
  if (!created) return null;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  writeFileSync(file, `${created.token}\n`, { mode: 0o600 });
  return { token: created.token, file };
}
