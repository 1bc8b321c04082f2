import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { migrate } from '../../adapters/store/migrations.js';
import { BACKENDS, openTestStore, type TestStore } from '../../adapters/store/testing.js';
import { MIGRATIONS } from '../migrations/index.js';
import { appendAudit, hashEvent, verifyAudit } from './chain.js';

const ROWS = 12;

/** Roll back whatever `fn` did: each tampering is tried on the same pristine chain. */
class Rollback extends Error {}
async function inRolledBackTx<T>(store: TestStore, fn: (tx: TestStore['db']) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await store.db
    .transaction(async (tx) => {
      out = await fn(tx as TestStore['db']);
      throw new Rollback();
    })
    .catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return out as T;
}

for (const backend of BACKENDS) {
  describe(`audit chain on ${backend}`, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(backend);
      await migrate(store.db, MIGRATIONS);
      for (let i = 0; i < ROWS; i++) {
        await store.db.transaction((tx) =>
          appendAudit(tx, { actor: `user${i % 3}`, action: 'rollout.step-advanced', target: `rollout/ro_${i}`, agent: 'a', reason: `r${i}`, before: { weight: i }, after: { weight: i + 1 } }),
        );
      }
    });
    after(async () => {
      await store?.dispose();
    });

    it('verifies an untouched chain', async () => {
      const v = await verifyAudit(store.db);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
      assert.equal(v.rows, ROWS);
      assert.equal(v.head?.seq, ROWS);
    });

    it('names the row of any single edit, deletion, or edit with a recomputed hash', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: ROWS }),
          fc.constantFrom('actor', 'reason', 'after', 'at', 'delete', 'delete-tail', 'rehash'),
          async (seq, how) => {
            const v = await inRolledBackTx(store, async (tx) => {
              if (how === 'delete') await tx.query('DELETE FROM audit_log WHERE seq = $1', [seq]);
              else if (how === 'delete-tail') await tx.query('DELETE FROM audit_log WHERE seq >= $1', [seq]);
              else if (how === 'actor') await tx.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = $1`, [seq]);
              else if (how === 'reason') await tx.query(`UPDATE audit_log SET reason = NULL WHERE seq = $1`, [seq]);
              else if (how === 'after') await tx.query(`UPDATE audit_log SET after = '{"weight": 100}' WHERE seq = $1`, [seq]);
              else if (how === 'at') await tx.query(`UPDATE audit_log SET at = '2000-01-01T00:00:00.000Z' WHERE seq = $1`, [seq]);
              else {
                // A careful forger edits the row and recomputes its own hash: the next link (or, for
                // the newest row, the head kept apart) no longer matches.
                await tx.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = $1`, [seq]);
                const row = (await tx.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE seq = $1', [seq])).rows[0]!;
                const hash = hashEvent(row.prev_hash as string, row as never);
                await tx.query('UPDATE audit_log SET hash = $2 WHERE seq = $1', [seq, hash]);
              }
              return verifyAudit(tx);
            });
            assert.equal(v.ok, false, `${how} of row ${seq} detected`);
            const named = v.problems.map((p) => p.seq);
            assert.ok(named.includes(seq), `${how} of row ${seq}: named ${JSON.stringify(v.problems)}`);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
