/**
 * The audit log: append-only and hash-chained. Each row's hash is
 * `sha256(prev_hash || canonical(event))`, so editing a row breaks its own hash and deleting one
 * breaks the next row's link; the head (seq and hash of the newest row) is kept apart from the
 * rows so that deleting the newest rows is caught as well.
 */
import { canonicalize, sha256, type JsonValue } from '@sluice/core';
import { LOCK_KEYS, lockInTransaction, type Queryable } from '../../adapters/store/database.js';

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

export interface AuditInput {
  actor: string;
  /** `<noun>.<verb>`, e.g. `rollout.start`, `token.revoke`. */
  action: string;
  /** What changed, e.g. `rollout/ro_…`, `release/support-agent@2.3.1`. */
  target: string;
  agent?: string | null;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
  at?: string;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  agent: string | null;
  reason: string | null;
  before: JsonValue | null;
  after: JsonValue | null;
}

export interface AuditRow extends AuditEvent {
  prevHash: string;
  hash: string;
}

/** What is hashed: every column but the hashes themselves. */
export function hashEvent(prevHash: string, e: AuditEvent): string {
  const body = canonicalize({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    agent: e.agent,
    reason: e.reason,
    before: e.before,
    after: e.after,
  });
  return sha256(prevHash + body);
}

// JSON columns go through JSON once so what we hash is exactly what a reader gets back.
const asJson = (v: unknown): JsonValue | null => (v === undefined || v === null ? null : (JSON.parse(JSON.stringify(v)) as JsonValue));

/** Append one event. Must run inside the transaction that makes the change it records. */
export async function appendAudit(tx: Queryable, input: AuditInput): Promise<AuditRow> {
  // Writers take turns on the chain's head; the lock ends with the transaction.
  await lockInTransaction(tx, LOCK_KEYS.audit);
  const head = (await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1')).rows[0];
  const event: AuditEvent = {
    seq: (head ? Number(head.seq) : 0) + 1,
    at: input.at ?? new Date().toISOString(),
    actor: input.actor,
    action: input.action,
    target: input.target,
    agent: input.agent ?? null,
    reason: input.reason ?? null,
    before: asJson(input.before),
    after: asJson(input.after),
  };
  const prevHash = head?.hash ?? GENESIS_HASH;
  const hash = hashEvent(prevHash, event);
  await tx.query(
    `INSERT INTO audit_log (seq, at, actor, action, target, agent, reason, before, after, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [event.seq, event.at, event.actor, event.action, event.target, event.agent, event.reason, json(event.before), json(event.after), prevHash, hash],
  );
  await tx.query(
    `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
    [event.seq, hash],
  );
  return { ...event, prevHash, hash };
}

const json = (v: JsonValue | null) => (v === null ? null : JSON.stringify(v));

/** A row as the database returns it: the event's columns, with the chain columns in snake case. */
type DbRow = AuditEvent & { prev_hash: string; hash: string };

const fromDb = (r: DbRow): AuditRow => ({
  seq: Number(r.seq),
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  agent: r.agent,
  reason: r.reason,
  before: r.before,
  after: r.after,
  prevHash: r.prev_hash,
  hash: r.hash,
});

export interface AuditFilter {
  agent?: string;
  /** ISO time: only events at or after it. */
  since?: string;
  target?: string;
  limit?: number;
}

export async function listAudit(q: Queryable, f: AuditFilter = {}): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.agent) {
    params.push(f.agent);
    where.push(`agent = $${params.length}`);
  }
  if (f.since) {
    params.push(f.since);
    where.push(`at >= $${params.length}`);
  }
  if (f.target) {
    params.push(f.target);
    where.push(`target = $${params.length}`);
  }
  params.push(Math.min(Math.max(f.limit ?? 1000, 1), 10_000));
  const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`;
  return (await q.query<DbRow>(sql, params)).rows.map(fromDb).reverse();
}

export interface AuditProblem {
  seq: number;
  problem: 'edited' | 'deleted' | 'relinked' | 'head';
  message: string;
}

export interface AuditVerdict {
  ok: boolean;
  rows: number;
  head: { seq: number; hash: string } | null;
  problems: AuditProblem[];
}

/** Walk the whole chain and name every row that was edited or deleted. */
export async function verifyAudit(q: Queryable): Promise<AuditVerdict> {
  const rows = (await q.query<DbRow>('SELECT * FROM audit_log ORDER BY seq ASC')).rows.map(fromDb);
  const headRow = (await q.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1')).rows[0];
  const head = headRow ? { seq: Number(headRow.seq), hash: headRow.hash } : null;
  const problems: AuditProblem[] = [];
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (const row of rows) {
    if (row.seq > expectedSeq) {
      const range = row.seq - 1 === expectedSeq ? `row ${expectedSeq}` : `rows ${expectedSeq}..${row.seq - 1}`;
      problems.push({ seq: expectedSeq, problem: 'deleted', message: `${range} deleted: the chain jumps from ${expectedSeq - 1} to ${row.seq}` });
    } else if (row.prevHash !== prevHash) {
      // The link to the previous row is broken although no row is missing: the previous row was
      // rewritten (with a recomputed hash) or this row's link was edited.
      problems.push({ seq: row.seq - 1, problem: 'edited', message: `row ${row.seq - 1} edited: row ${row.seq} links to ${row.prevHash}, but row ${row.seq - 1} now hashes to ${prevHash}` });
    }
    const recomputed = hashEvent(row.prevHash, row);
    if (recomputed !== row.hash) {
      problems.push({ seq: row.seq, problem: 'edited', message: `row ${row.seq} edited: its content hashes to ${recomputed}, not the stored ${row.hash}` });
    }
    prevHash = row.hash;
    expectedSeq = row.seq + 1;
  }
  const last = rows[rows.length - 1];
  if (head && (!last || head.seq > last.seq)) {
    const from = (last?.seq ?? 0) + 1;
    problems.push({ seq: from, problem: 'deleted', message: `${from === head.seq ? `row ${from}` : `rows ${from}..${head.seq}`} deleted: the log ends at ${last?.seq ?? 0} but its head is ${head.seq}` });
  } else if (head && last && head.hash !== last.hash) {
    problems.push({ seq: last.seq, problem: 'head', message: `row ${last.seq} edited: it does not match the recorded head hash ${head.hash}` });
  } else if (!head && last) {
    problems.push({ seq: last.seq, problem: 'head', message: 'the audit head is missing' });
  }
  return { ok: problems.length === 0, rows: rows.length, head, problems };
}
