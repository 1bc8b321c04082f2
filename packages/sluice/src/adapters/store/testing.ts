/**
 * Store fixtures for tests: every store test runs against both backends. PostgreSQL is not
 * optional: if it is unreachable the tests fail, they never skip.
 */
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite } from './pglite/index.js';
import { openPostgres } from './postgres/index.js';
import type { Database } from './database.js';

export const TEST_DATABASE_URL = process.env.SLUICE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

export interface TestStore {
  backend: Backend;
  db: Database;
  /** A scratch directory for the test (the PGlite data lives in `<dir>/data`). */
  dir: string;
  /** PostgreSQL only: the schema this store lives in. */
  schema?: string;
  /** Open another connection to the same store (PostgreSQL only: PGlite has one owner). */
  reopen(): Promise<Database>;
  /** Close and drop everything the store made. */
  dispose(): Promise<void>;
}

/**
 * A fresh PGlite cluster costs an initdb (seconds on a busy machine); copying a template data
 * directory costs milliseconds, so the first test process makes one and the rest copy it.
 */
async function pgliteTemplate(): Promise<string> {
  const template = join(tmpdir(), `sluice-pglite-template-${process.getuid?.() ?? 0}-v1`);
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  const scratch = mkdtempSync(join(tmpdir(), 'sluice-pglite-init-'));
  const db = await openPglite(join(scratch, 'data'));
  await db.close();
  try {
    renameSync(join(scratch, 'data'), template);
  } catch {
    // Another test process won the race; theirs is as good as ours.
  }
  rmSync(scratch, { recursive: true, force: true });
  return template;
}

/** A fresh PGlite data directory (copied from the template) at `dataDir`. */
export async function freshPgliteDir(dataDir: string): Promise<void> {
  cpSync(await pgliteTemplate(), dataDir, { recursive: true });
}

export async function openTestStore(backend: Backend): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-store-${backend}-`));
  if (backend === 'pglite') {
    await freshPgliteDir(join(dir, 'data'));
    const db = await openPglite(join(dir, 'data'));
    return {
      backend,
      db,
      dir,
      reopen: () => Promise.reject(new Error('PGlite has a single owner')),
      dispose: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `sluice_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const db = await openPostgres({ url: TEST_DATABASE_URL, schema });
  const others: Database[] = [];
  return {
    backend,
    db,
    dir,
    schema,
    reopen: async () => {
      const d = await openPostgres({ url: TEST_DATABASE_URL, schema });
      others.push(d);
      return d;
    },
    dispose: async () => {
      for (const d of others) await d.close().catch(() => {});
      await db.close();
      await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
