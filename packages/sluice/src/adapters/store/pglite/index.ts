import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { Database, HeldLock, Queryable, QueryResult } from '../database.js';

/**
 * The embedded store: PostgreSQL compiled to WASM, in one data directory. A single session, so
 * PGlite itself serializes queries and transactions; advisory locks are trivially ours.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const pg = new PGlite(dataDir);
  await pg.waitReady;
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const r = await pg.query<R>(sql, params);
    return { rows: r.rows };
  };
  return {
    dialect: 'pglite',
    query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction(async (tx) =>
        fn({
          query: async <R>(sql: string, params?: unknown[]) => ({ rows: (await tx.query<R>(sql, params)).rows }),
        }),
      );
    },
    async tryLock(): Promise<HeldLock> {
      // One process owns the data directory, so the lock is always ours.
      return { release: async () => {} };
    },
    async close() {
      if (!pg.closed) await pg.close();
    },
  };
}
