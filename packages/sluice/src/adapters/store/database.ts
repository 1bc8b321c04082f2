/**
 * The store: one small interface over PostgreSQL-compatible databases. Control state lives
 * here (agents, releases, deployments, rollouts, tokens, audit); the request path never touches it.
 *
 * Backends live one per folder (`pglite/` embedded, `postgres/` a server) and run the same SQL,
 * with `$1`-style parameters.
 */
export interface QueryResult<R> {
  rows: R[];
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** A session-level lock held until released (or until the process dies). */
export interface HeldLock {
  release(): Promise<void>;
}

export interface Database extends Queryable {
  readonly dialect: 'pglite' | 'postgres';
  /** Run `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Try to take a cluster-wide advisory lock without waiting; null if another session holds
   * it. Used so one control replica at a time runs the rollout loop.
   */
  tryLock(key: number): Promise<HeldLock | null>;
  close(): Promise<void>;
}

/** Advisory lock keys, one per purpose, so replicas sharing a database agree on them. */
export const LOCK_KEYS = {
  migrations: 77_000_001,
  rolloutLoop: 77_000_002,
  audit: 77_000_003,
  epoch: 77_000_004,
} as const;

/**
 * Take a transaction-scoped advisory lock. Keys are scoped to the current schema, so several
 * Sluice installations (or test runs) sharing one database never block each other.
 */
export async function lockInTransaction(tx: Queryable, key: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [key]);
}
