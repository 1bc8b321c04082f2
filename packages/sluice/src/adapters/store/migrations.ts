import { LOCK_KEYS, lockInTransaction, type Database } from './database.js';

export interface Migration {
  version: number;
  name: string;
  /** One statement per entry: both backends run them through the extended protocol. */
  statements: string[];
}

/**
 * Apply every migration newer than the database, in version order, each in its own transaction
 * with a row in `schema_migrations`. Safe to run on every start, and from several replicas at
 * once: a transaction-scoped advisory lock makes them take turns, and the loser finds the work done.
 */
export async function migrate(db: Database, migrations: Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const applied: number[] = [];
  await db.transaction(async (tx) => {
    await lockInTransaction(tx, LOCK_KEYS.migrations);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)',
    );
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    for (const m of sorted) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      applied.push(m.version);
    }
  });
  return applied;
}
