import type { Queryable } from '../../adapters/store/database.js';

export interface AgentRecord {
  name: string;
  /** The release serving as baseline: the first deployed, then each promoted candidate. */
  stableDigest: string | null;
  createdAt: string;
}

export async function ensureAgent(tx: Queryable, name: string, at = new Date().toISOString()): Promise<void> {
  await tx.query('INSERT INTO agents (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, at]);
}

export async function listAgents(q: Queryable): Promise<AgentRecord[]> {
  const r = await q.query<{ name: string; stable_digest: string | null; created_at: string }>('SELECT * FROM agents ORDER BY name');
  return r.rows.map((a) => ({ name: a.name, stableDigest: a.stable_digest, createdAt: a.created_at }));
}

export async function getAgent(q: Queryable, name: string): Promise<AgentRecord | null> {
  const r = await q.query<{ name: string; stable_digest: string | null; created_at: string }>('SELECT * FROM agents WHERE name = $1', [name]);
  const a = r.rows[0];
  return a ? { name: a.name, stableDigest: a.stable_digest, createdAt: a.created_at } : null;
}

export async function setStable(tx: Queryable, name: string, digest: string): Promise<void> {
  await tx.query('UPDATE agents SET stable_digest = $2 WHERE name = $1', [name, digest]);
}
