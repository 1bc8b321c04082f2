import pg from 'pg';
import type { Database, HeldLock, Queryable, QueryResult } from '../database.js';

export interface PostgresOptions {
  url: string;
  /** Schema to use (created if missing); tests give each file its own. */
  schema?: string;
  max?: number;
}

/** A PostgreSQL server through a `pg` connection pool. */
export async function openPostgres(opts: PostgresOptions): Promise<Database> {
  const schema = opts.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: opts.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (err) {
      // IF NOT EXISTS still races when replicas start together: the loser sees a duplicate.
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw err;
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    // count(*) and other int8 values come back as strings by default; Sluice's counters stay
    // well inside 2^53, so read them as numbers (per pool, not process-wide).
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => {});
  await pool.query('SELECT 1');
  const query = async <R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
    const r = await pool.query(sql, params as unknown[]);
    return { rows: r.rows as R[] };
  };
  return {
    dialect: 'postgres',
    query,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: async <R>(sql: string, params?: unknown[]) => ({ rows: (await client.query(sql, params as unknown[])).rows as R[] }),
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async tryLock(key: number): Promise<HeldLock | null> {
      const client = await pool.connect();
      try {
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS ok', [key]);
        if (!r.rows[0]?.ok) {
          client.release();
          return null;
        }
      } catch (err) {
        client.release();
        throw err;
      }
      // The lock lives as long as this session: keep the client out of the pool until released.
      return {
        release: async () => {
          try {
            await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [key]);
          } finally {
            client.release();
          }
        },
      };
    },
    async close() {
      await pool.end();
    },
  };
}
