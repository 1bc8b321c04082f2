import type { Database, Queryable } from './database.js';

export interface StoreObserver {
  /** Called after every query with its duration in seconds. */
  query(seconds: number, ok: boolean): void;
}

/** Wrap a database so every query (in a transaction or not) reports its latency. */
export function instrument(db: Database, observe: StoreObserver): Database {
  const wrap = (q: Queryable): Queryable['query'] =>
    async function query<R>(sql: string, params?: unknown[]) {
      const t = performance.now();
      try {
        const r = await q.query<R>(sql, params);
        observe.query((performance.now() - t) / 1000, true);
        return r;
      } catch (err) {
        observe.query((performance.now() - t) / 1000, false);
        throw err;
      }
    };
  return {
    dialect: db.dialect,
    query: wrap(db),
    transaction: (fn) => db.transaction((tx) => fn({ query: wrap(tx) })),
    tryLock: (key) => db.tryLock(key),
    close: () => db.close(),
  };
}
