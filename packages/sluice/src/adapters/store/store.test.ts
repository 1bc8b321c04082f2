import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MIGRATIONS } from '../../control/migrations/index.js';
import { LOCK_KEYS } from './database.js';
import { migrate } from './migrations.js';
import { BACKENDS, openTestStore, type TestStore } from './testing.js';
import { openPglite } from './pglite/index.js';
import { join } from 'node:path';

for (const backend of BACKENDS) {
  describe(`store on ${backend}`, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(backend);
    });
    after(async () => {
      await store?.dispose();
    });

    it('runs the migrations once, and again is a no-op', async () => {
      assert.deepEqual(await migrate(store.db, MIGRATIONS), MIGRATIONS.map((m) => m.version));
      assert.deepEqual(await migrate(store.db, MIGRATIONS), []);
      const rows = (await store.db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows;
      assert.deepEqual(rows.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
    });

    it('binds $n parameters and returns rows the same way on both backends', async () => {
      const r = await store.db.query<{ a: number; b: string; c: unknown }>('SELECT $1::integer AS a, $2::text AS b, $3::jsonb AS c', [7, 'x', JSON.stringify({ k: [1, 2] })]);
      assert.deepEqual(r.rows, [{ a: 7, b: 'x', c: { k: [1, 2] } }]);
      const n = await store.db.query<{ n: number }>('SELECT count(*)::integer AS n FROM schema_migrations');
      assert.equal(typeof n.rows[0]?.n, 'number');
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await store.db.transaction(async (tx) => {
        await tx.query("INSERT INTO agents (name, created_at) VALUES ('kept', 'now')");
      });
      await assert.rejects(
        store.db.transaction(async (tx) => {
          await tx.query("INSERT INTO agents (name, created_at) VALUES ('dropped', 'now')");
          throw new Error('boom');
        }),
        /boom/,
      );
      const names = (await store.db.query<{ name: string }>('SELECT name FROM agents ORDER BY name')).rows.map((r) => r.name);
      assert.deepEqual(names, ['kept']);
    });

    if (backend === 'pglite') {
      it('refuses a second owner of the data directory, naming the first', async () => {
        await assert.rejects(openPglite(join(store.dir, 'data')), (err: Error) => {
          assert.match(err.message, new RegExp(`in use by process ${process.pid}`));
          return true;
        });
      });
    }

    if (backend === 'postgres') {
      it('lets concurrent starts migrate a fresh schema exactly once', async () => {
        const other = await openTestStore('postgres');
        try {
          const conns = [other.db, await other.reopen(), await other.reopen()];
          const results = await Promise.all(conns.map((db) => migrate(db, MIGRATIONS)));
          assert.equal(results.filter((r) => r.length > 0).length, 1, `exactly one start applies the migrations: ${JSON.stringify(results)}`);
        } finally {
          await other.dispose();
        }
      });

      it('gives the rollout-loop lock to one session at a time', async () => {
        const second = await store.reopen();
        const a = await store.db.tryLock(LOCK_KEYS.rolloutLoop);
        assert.ok(a, 'the first session takes the lock');
        assert.equal(await second.tryLock(LOCK_KEYS.rolloutLoop), null, 'the second is refused while it is held');
        await a.release();
        const b = await second.tryLock(LOCK_KEYS.rolloutLoop);
        assert.ok(b, 'released, the second takes it');
        await b.release();
      });
    }
  });
}
