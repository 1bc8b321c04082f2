import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { conflict } from '@sluice/core';
import type { Database, HeldLock, Queryable, QueryResult } from '../database.js';

/**
 * The embedded store: PostgreSQL compiled to WASM, in one data directory. A single session, so
 * PGlite itself serializes queries and transactions; advisory locks are trivially ours.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  let pg: PGlite;
  try {
    pg = new PGlite(dataDir);
    await pg.waitReady;
  } catch (err) {
    release();
    throw err;
  }
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
      release();
    },
  };
}

/**
 * PGlite has no server to arbitrate: two processes on one data directory would corrupt it. A
 * lock file with the owner's pid refuses the second; a lock left by a process that died (kill -9)
 * is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'sluice.lock');
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw conflict(`the data directory ${dataDir} is in use by process ${pid} (another sluice up?)`, [
        { where: file, message: `held by pid ${pid}` },
      ]);
    }
    rmSync(file, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
