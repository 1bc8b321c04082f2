import { openPglite } from './pglite/index.js';
import { openPostgres } from './postgres/index.js';
import type { Database } from './database.js';

export * from './database.js';
export { openPglite } from './pglite/index.js';
export { openPostgres } from './postgres/index.js';

export interface StoreOptions {
  /** PGlite data directory, used when no databaseUrl is given. */
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
}

/** Open the store `sluice up` was asked for: PostgreSQL given a URL, else embedded PGlite. */
export function openDatabase(opts: StoreOptions): Promise<Database> {
  if (opts.databaseUrl) return openPostgres({ url: opts.databaseUrl, ...(opts.schema ? { schema: opts.schema } : {}) });
  return openPglite(opts.dataDir);
}
