/**
 * The routing epoch: a persisted counter bumped in the same transaction as every change to
 * deployments or rollouts, so a gateway can tell a newer routing config from an older one.
 */
import { LOCK_KEYS, lockInTransaction, type Queryable } from '../adapters/store/database.js';

export async function bumpEpoch(tx: Queryable, at = new Date().toISOString()): Promise<number> {
  await lockInTransaction(tx, LOCK_KEYS.epoch);
  const r = await tx.query<{ epoch: number }>('UPDATE routing_epoch SET epoch = epoch + 1, updated_at = $1 WHERE id = 1 RETURNING epoch', [at]);
  return Number(r.rows[0]?.epoch);
}

export async function currentEpoch(q: Queryable): Promise<{ epoch: number; updatedAt: string }> {
  const r = await q.query<{ epoch: number; updated_at: string }>('SELECT epoch, updated_at FROM routing_epoch WHERE id = 1');
  return { epoch: Number(r.rows[0]?.epoch ?? 0), updatedAt: r.rows[0]?.updated_at ?? new Date(0).toISOString() };
}
