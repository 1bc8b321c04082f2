/**
 * Rollouts, persisted as an append-only event log per rollout plus a snapshot of the state the
 * log replays to. Every change goes through core's `decide` (commands) or `tick` (time), so
 * the server holds no rollout logic of its own: it loads, decides, appends, and publishes.
 */
import { randomBytes } from 'node:crypto';
import {
  conflict,
  decide,
  failed,
  isTerminal,
  notFound,
  reduce,
  replay,
  routingView,
  tick,
  type GateSignals,
  type RolloutCommand,
  type RolloutCommandBody,
  type RolloutEvent,
  type RolloutPlan,
  type RolloutState,
  type Role,
} from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import { appendAudit } from '../audit/chain.js';
import { bumpEpoch } from '../epoch.js';
import { getAgent, setStable } from './agents.js';
import { deploymentOf } from './deployments.js';
import { assertServable, findRelease, resolveRelease, type ReleasePolicy } from './releases.js';

export interface RolloutRecord {
  id: string;
  agent: string;
  status: RolloutState['status'];
  active: boolean;
  baselineDigest: string;
  candidateDigest: string;
  state: RolloutState;
  /** Number of events in the log. */
  events: number;
  createdAt: string;
  updatedAt: string;
}

interface RolloutRow {
  id: string;
  agent: string;
  baseline_digest: string;
  candidate_digest: string;
  state: RolloutState;
  status: RolloutState['status'];
  active: boolean;
  seq: number;
  created_at: string;
  updated_at: string;
}

const fromRow = (r: RolloutRow): RolloutRecord => ({
  id: r.id,
  agent: r.agent,
  status: r.status,
  active: r.active,
  baselineDigest: r.baseline_digest,
  candidateDigest: r.candidate_digest,
  state: r.state,
  events: Number(r.seq),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface StoredEvent {
  seq: number;
  event: RolloutEvent;
}

/** Short words for the changelog: where a rollout stands. */
export function describeState(s: RolloutState): string {
  const step = s.stepIndex >= 0 ? ` at step ${s.stepIndex + 1}/${s.plan.steps.length}` : '';
  return `${s.status}${s.status === 'progressing' || s.status === 'paused' || s.status === 'awaiting-approval' ? `${step}, weight ${s.weight}%` : ''}`;
}

const summary = (s: RolloutState) => ({ status: s.status, step: s.stepIndex, weight: s.weight, version: s.version });

export async function getRollout(q: Queryable, id: string, lock = false): Promise<RolloutRecord> {
  const r = await q.query<RolloutRow>(`SELECT * FROM rollouts WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  if (!r.rows[0]) throw notFound(`no rollout ${id}`, [{ where: 'id', message: 'unknown rollout' }]);
  return fromRow(r.rows[0]);
}

export async function listRollouts(q: Queryable, f: { agent?: string; active?: boolean } = {}): Promise<RolloutRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.agent) where.push(`agent = $${params.push(f.agent)}`);
  if (f.active !== undefined) where.push(`active = $${params.push(f.active)}`);
  const r = await q.query<RolloutRow>(`SELECT * FROM rollouts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params);
  return r.rows.map(fromRow);
}

export async function activeRolloutIds(q: Queryable): Promise<string[]> {
  return (await q.query<{ id: string }>('SELECT id FROM rollouts WHERE active ORDER BY id')).rows.map((r) => r.id);
}

export async function listEvents(q: Queryable, id: string, afterSeq = 0): Promise<StoredEvent[]> {
  await getRollout(q, id);
  const r = await q.query<{ seq: number; event: RolloutEvent }>('SELECT seq, event FROM rollout_events WHERE rollout_id = $1 AND seq > $2 ORDER BY seq', [id, afterSeq]);
  return r.rows.map((e) => ({ seq: Number(e.seq), event: e.event }));
}

/** Append events to the log, audit each, move the snapshot, publish a new routing epoch. */
async function persist(tx: Queryable, rec: { id: string; agent: string; seq: number; candidateDigest: string }, before: RolloutState | null, events: RolloutEvent[], after: RolloutState): Promise<void> {
  let seq = rec.seq;
  let prev = before;
  for (const e of events) {
    seq += 1;
    await tx.query('INSERT INTO rollout_events (rollout_id, seq, event, actor, at) VALUES ($1, $2, $3, $4, $5)', [rec.id, seq, JSON.stringify(e), e.actor, e.at]);
    // Audit each event with the state it moved from and to, so the changelog reads step by step.
    const s = prev === null ? replay([e]) : reduce(prev, e);
    await appendAudit(tx, {
      actor: e.actor,
      action: `rollout.${e.type}`,
      target: `rollout/${rec.id}`,
      agent: rec.agent,
      reason: e.reason ?? null,
      at: e.at,
      before: prev ? summary(prev) : null,
      after: { ...summary(s), event: e },
    });
    prev = s;
  }
  await tx.query('UPDATE rollouts SET state = $2, status = $3, active = $4, seq = $5, updated_at = $6 WHERE id = $1', [
    rec.id,
    JSON.stringify(after),
    after.status,
    !isTerminal(after.status),
    seq,
    after.updatedAt,
  ]);
  if (after.status === 'promoted' && before?.status !== 'promoted') await setStable(tx, rec.agent, rec.candidateDigest);
  await bumpEpoch(tx);
}


export interface StartInput {
  plan: RolloutPlan;
  requestId: string;
  actor: string;
  roles: Role[];
  reason?: string;
}

/**
 * Create and start a rollout of `plan.candidate` from the agent's stable release. Refused when
 * the agent already has an active rollout, when a release is unknown or undeployed, or when the
 * candidate fails the signature policy; nothing is stored then.
 */
export async function startRollout(tx: Queryable, input: StartInput, policy: ReleasePolicy, now = new Date().toISOString()): Promise<RolloutRecord> {
  const { plan } = input;
  const candidate = await resolveRelease(tx, plan.candidate, 'plan.candidate');
  assertServable(candidate, policy, 'plan.candidate');
  const agent = await getAgent(tx, plan.agent);
  const stable = agent?.stableDigest ? await findRelease(tx, agent.stableDigest) : null;
  if (!stable) throw failed(`agent ${plan.agent} has no deployed release to roll out from: deploy its current release first (sluice deploy add)`, [{ where: 'plan.agent', message: 'no stable release' }]);
  if (plan.baseline !== undefined) {
    const baseline = await resolveRelease(tx, plan.baseline, 'plan.baseline');
    if (baseline.digest !== stable.digest)
      throw conflict(`plan.baseline is ${plan.baseline}, but ${plan.agent} is serving ${stable.ref}`, [{ where: 'plan.baseline', message: `serving ${stable.ref}` }]);
  }
  if (!(await deploymentOf(tx, candidate.digest)))
    throw failed(`${candidate.ref} has no deployment: add one with \`sluice deploy add ${candidate.ref} --upstream URL\``, [{ where: 'plan.candidate', message: 'not deployed' }]);
  // Serialize starts per agent: the row lock on the agent makes a concurrent second start wait, then see the first.
  await tx.query('SELECT name FROM agents WHERE name = $1 FOR UPDATE', [plan.agent]);
  const active = (await tx.query<RolloutRow>('SELECT * FROM rollouts WHERE agent = $1 AND active', [plan.agent])).rows[0];
  if (active) {
    const s = active.state;
    throw conflict(
      `${plan.agent} already has an active rollout ${active.id} (${s.baseline ?? '-'} → ${s.candidate}, ${describeState(s)}): ship one grouped change at a time; promote, roll back or abort it first`,
      [{ where: `rollout/${active.id}`, message: describeState(s) }],
    );
  }
  const id = `ro_${randomBytes(6).toString('hex')}`;
  const meta = { actor: input.actor, roles: input.roles, ...(input.reason ? { reason: input.reason } : {}) };
  const created = decide(undefined, { ...meta, requestId: `${input.requestId}:create`, type: 'create', rolloutId: id, plan, baseline: stable.ref }, now);
  if (!created.ok) throw created.error;
  let state = created.events.reduce(reduce, initFrom(created.events));
  const started = decide(state, { ...meta, requestId: `${input.requestId}:start`, type: 'start' }, now);
  if (!started.ok) throw started.error;
  state = started.events.reduce(reduce, state);
  const events = [...created.events, ...started.events];
  await tx.query(
    `INSERT INTO rollouts (id, agent, baseline_digest, candidate_digest, plan, state, status, active, seq, created_at, created_by, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $9)`,
    [id, plan.agent, stable.digest, candidate.digest, JSON.stringify(plan), JSON.stringify(state), state.status, true, now, input.actor],
  );
  await persist(tx, { id, agent: plan.agent, seq: 0, candidateDigest: candidate.digest }, null, events, state);
  return getRollout(tx, id);
}

const initFrom = (events: RolloutEvent[]): RolloutState => replay(events.slice(0, 1));

/** Apply a person's command (pause, resume, promote, rollback, abort, approve...). */
export async function commandRollout(
  tx: Queryable,
  id: string,
  command: RolloutCommandBody,
  meta: { requestId: string; actor: string; roles: Role[]; reason?: string },
  signals: GateSignals = {},
  now = new Date().toISOString(),
): Promise<{ rollout: RolloutRecord; events: RolloutEvent[]; duplicate: boolean }> {
  const rec = await getRollout(tx, id, true);
  const decision = decide(rec.state, { ...command, ...meta } as RolloutCommand, now, signals);
  if (!decision.ok) throw decision.error;
  if (decision.duplicate || decision.events.length === 0) return { rollout: rec, events: [], duplicate: decision.duplicate };
  const after = decision.events.reduce(reduce, rec.state);
  await persist(tx, { id, agent: rec.agent, seq: rec.events, candidateDigest: rec.candidateDigest }, rec.state, decision.events, after);
  return { rollout: await getRollout(tx, id), events: decision.events, duplicate: false };
}

/** The control loop's step for one rollout: append whatever time has made due. */
export async function tickRollout(tx: Queryable, id: string, now = new Date().toISOString(), signals: GateSignals = {}): Promise<RolloutEvent[]> {
  const rec = await getRollout(tx, id, true);
  if (!rec.active) return [];
  const events = tick(rec.state, now, signals);
  if (events.length === 0) return [];
  const after = events.reduce(reduce, rec.state);
  await persist(tx, { id, agent: rec.agent, seq: rec.events, candidateDigest: rec.candidateDigest }, rec.state, events, after);
  return events;
}

/** The gateway's view of the active rollouts, keyed by agent. */
export async function routedRollouts(q: Queryable): Promise<Map<string, { view: ReturnType<typeof routingView>; candidateDigest: string }>> {
  const out = new Map<string, { view: ReturnType<typeof routingView>; candidateDigest: string }>();
  for (const r of (await q.query<RolloutRow>('SELECT * FROM rollouts WHERE active')).rows) {
    const view = routingView(r.state);
    if (view.active) out.set(r.agent, { view, candidateDigest: r.candidate_digest });
  }
  return out;
}

/**
 * A gateway's count of canary sessions still draining on it. Each gateway's last report is kept;
 * the rollout hears the sum, so the drain ends only when every gateway that reported is at 0.
 */
export async function reportDrain(tx: Queryable, id: string, gateway: string, inFlight: number, now = new Date().toISOString()): Promise<number> {
  await getRollout(tx, id, true);
  await tx.query(
    `INSERT INTO drain_reports (rollout_id, gateway, in_flight, reported_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (rollout_id, gateway) DO UPDATE SET in_flight = EXCLUDED.in_flight, reported_at = EXCLUDED.reported_at`,
    [id, gateway, inFlight, now],
  );
  const { rows } = await tx.query<{ total: number }>('SELECT COALESCE(SUM(in_flight), 0)::integer AS total FROM drain_reports WHERE rollout_id = $1', [id]);
  return rows[0]?.total ?? inFlight;
}
