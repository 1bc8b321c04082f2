/**
 * Approvals of single agent actions. During a window with `high-risk=approve`, an agent's
 * `guard()` asks for one before a high-risk action and waits; a person with the approver role —
 * never the identity that asked — approves or denies it. Every step is in the audit log.
 */
import { randomBytes } from 'node:crypto';
import { conflict, forbidden, notFound } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import type { ApprovalRequest, ApprovalStatus } from '@sluice/sdk';
import { appendAudit } from '../audit/chain.js';

// The wire contract is the SDK's: what `HttpApprovals` sends is what this service stores.
export type { ApprovalStatus };
export type ApprovalInput = ApprovalRequest;

export interface ApprovalRecord extends Required<Pick<ApprovalInput, 'action' | 'risk' | 'external'>> {
  id: string;
  session: string | null;
  release: string | null;
  reason: string | null;
  status: ApprovalStatus;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}

interface ApprovalRow {
  id: string;
  action: string;
  risk: ApprovalInput['risk'];
  external: boolean;
  session: string | null;
  release: string | null;
  reason: string | null;
  status: ApprovalStatus;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
}

const fromRow = (r: ApprovalRow): ApprovalRecord => ({
  id: r.id,
  action: r.action,
  risk: r.risk,
  external: r.external,
  session: r.session,
  release: r.release,
  reason: r.reason,
  status: r.status,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  decisionReason: r.decision_reason,
});

export async function requestApproval(tx: Queryable, input: ApprovalInput, actor: string, now = new Date().toISOString()): Promise<ApprovalRecord> {
  const id = `apr_${randomBytes(6).toString('hex')}`;
  const { rows } = await tx.query<ApprovalRow>(
    `INSERT INTO approvals (id, action, risk, external, session, release, reason, status, requested_by, requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING *`,
    [id, input.action, input.risk, input.external, input.session ?? null, input.release ?? null, input.reason ?? null, actor, now],
  );
  const rec = fromRow(rows[0]!);
  await appendAudit(tx, { actor, action: 'approval.requested', target: `approval/${id}`, reason: input.reason ?? null, after: rec });
  return rec;
}

export async function getApproval(q: Queryable, id: string, forUpdate = false): Promise<ApprovalRecord> {
  const { rows } = await q.query<ApprovalRow>(`SELECT * FROM approvals WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  if (!rows[0]) throw notFound(`no approval ${id}`, [{ where: 'id', message: 'unknown approval' }]);
  return fromRow(rows[0]);
}

export async function listApprovals(q: Queryable, status?: ApprovalStatus): Promise<ApprovalRecord[]> {
  const { rows } = status
    ? await q.query<ApprovalRow>('SELECT * FROM approvals WHERE status = $1 ORDER BY requested_at, id', [status])
    : await q.query<ApprovalRow>('SELECT * FROM approvals ORDER BY requested_at, id');
  return rows.map(fromRow);
}

/** Approve or deny. Four eyes: whoever asked cannot decide; a decision is final. */
export async function decideApproval(
  tx: Queryable,
  id: string,
  decision: 'approved' | 'denied',
  actor: string,
  reason?: string,
  now = new Date().toISOString(),
): Promise<ApprovalRecord> {
  const before = await getApproval(tx, id, true);
  if (before.requestedBy === actor) {
    throw forbidden(`approval ${id} was requested by ${actor}: another person must decide it (four eyes)`, [{ where: 'actor', message: 'same as requester' }]);
  }
  if (before.status !== 'pending') throw conflict(`approval ${id} is already ${before.status} (by ${before.decidedBy})`, [{ where: 'status', message: before.status }]);
  const { rows } = await tx.query<ApprovalRow>(
    'UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5 WHERE id = $1 RETURNING *',
    [id, decision, actor, now, reason ?? null],
  );
  const after = fromRow(rows[0]!);
  await appendAudit(tx, { actor, action: `approval.${decision}`, target: `approval/${id}`, reason: reason ?? null, before: before, after: after });
  return after;
}
