import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '../errors/errors.js';
import { decide, tick } from './decide.js';
import { assertInvariant, invariantViolations } from './invariant.js';
import { parsePlan, type RolloutPlan } from './plan.js';
import { init, isDuplicate, reduce, replay } from './reducer.js';
import type { GateSignals, RolloutCommand, RolloutCommandBody, RolloutEvent, RolloutState } from './state.js';
import { currentWeight, routingView } from './view.js';
import { rolloutProgress } from './progress.js';

const T0 = Date.parse('2026-03-01T09:00:00.000Z');

/** A rollout driven the way the control plane drives it: decide, append, replay. */
class Rollout {
  log: RolloutEvent[] = [];
  state: RolloutState | undefined;
  now = T0;
  private n = 0;

  constructor(readonly plan: RolloutPlan) {}

  get s(): RolloutState {
    assert.ok(this.state);
    return this.state;
  }
  iso() {
    return new Date(this.now).toISOString();
  }
  advance(minutes: number) {
    this.now += minutes * 60_000;
    return this;
  }
  private append(events: RolloutEvent[]) {
    this.log.push(...events);
    this.state = replay(this.log);
    assertInvariant(this.state);
  }
  /** Send a command; returns the events, or throws its SluiceError. */
  send(body: RolloutCommandBody, actor = 'alice', extra: Partial<RolloutCommand> = {}): RolloutEvent[] {
    const command = { ...body, requestId: `req-${++this.n}`, actor, ...extra } as RolloutCommand;
    const d = decide(this.state, command, this.iso());
    if (!d.ok) throw d.error;
    this.append(d.events);
    return d.events;
  }
  refused(body: RolloutCommandBody, actor = 'alice', extra: Partial<RolloutCommand> = {}): SluiceError {
    const before = this.state;
    const d = decide(this.state, { ...body, requestId: `req-${++this.n}`, actor, ...extra } as RolloutCommand, this.iso());
    assert.equal(d.ok, false, `expected ${body.type} to be refused`);
    assert.equal(this.state, before);
    return (d as { error: SluiceError }).error;
  }
  tick(signals: GateSignals = {}): string[] {
    const events = tick(this.s, this.iso(), signals);
    this.append(events);
    return events.map((e) => e.type);
  }
  create(baseline: string | null = 'support-agent@2.3.0', actor = 'alice') {
    this.send({ type: 'create', rolloutId: 'ro-1', plan: this.plan, baseline }, actor);
    return this;
  }
}

const plan = (steps: string, extra = '') =>
  parsePlan(`agent: support-agent\ncandidate: support-agent@2.3.1\n${extra}steps:\n${steps}`);
const ANALYSIS = 'analysis:\n  metrics: [{name: escalation_rate}]\n';

describe('rollout lifecycle', () => {
  it('walks a canary through holds, an analysis gate, a pause and an approval to promotion', () => {
    const r = new Rollout(
      plan(
        '  - {weight: 5, hold: 10m}\n  - {weight: 25, hold: 30m, gates: [analysis]}\n  - {pause: {}}\n  - {approval: {}}\n  - {weight: 100}\n',
        ANALYSIS,
      ),
    ).create();
    assert.equal(r.s.status, 'pending');
    assert.equal(routingView(r.s).active, false);

    assert.deepEqual(r.send({ type: 'start' }).map((e) => e.type), ['started', 'step-advanced']);
    assert.equal(r.s.status, 'progressing');
    assert.equal(currentWeight(r.s), 5);
    assert.deepEqual(r.advance(9).tick(), [], 'hold of 10m not over after 9m');
    assert.deepEqual(r.advance(1).tick(), ['step-advanced']);
    assert.equal(currentWeight(r.s), 25);

    // The hold is over but the analysis has not passed: no advance.
    assert.deepEqual(r.advance(45).tick(), []);
    r.send({ type: 'verdict', verdict: 'inconclusive' }, 'analysis');
    assert.equal(r.s.stepIndex, 1);
    // A pass settles the step at once: the gate opens and the plan pause is entered.
    assert.deepEqual(r.send({ type: 'verdict', verdict: 'pass' }, 'analysis').map((e) => e.type), ['analysis-verdict', 'paused']);
    assert.equal(r.s.status, 'paused');
    assert.equal(r.s.pause?.kind, 'plan');
    assert.equal(currentWeight(r.s), 25, 'a pause keeps the weight');
    assert.deepEqual(r.advance(600).tick(), [], 'a pause without duration waits for a person');

    assert.deepEqual(r.send({ type: 'resume' }, 'bob').map((e) => e.type), ['resumed', 'approval-requested']);
    assert.equal(r.s.status, 'awaiting-approval');
    assert.equal(r.s.approval?.requestedBy, 'alice', 'the person who started the rollout asks');
    assert.equal(r.refused({ type: 'approve' }, 'alice').kind, 'forbidden');
    assert.deepEqual(r.send({ type: 'approve' }, 'carol').map((e) => e.type), ['approved', 'step-advanced', 'promoted']);
    assert.equal(r.s.status, 'promoted');
    assert.equal(currentWeight(r.s), 100);
    assert.deepEqual(r.s.approvals.map((a) => [a.step, a.requestedBy, a.approvedBy]), [[3, 'alice', 'carol']]);
    assert.deepEqual(routingView(r.s), {
      id: 'ro-1',
      agent: 'support-agent',
      status: 'promoted',
      strategy: 'canary',
      unit: 'session',
      baseline: 'support-agent@2.3.0',
      candidate: 'support-agent@2.3.1',
      weight: 100,
      active: false,
      serving: 'candidate',
    });
    assert.equal(r.s.endedAt, r.iso());
    // Terminal: every further command is refused.
    for (const body of [{ type: 'pause' }, { type: 'resume' }, { type: 'rollback' }, { type: 'abort' }, { type: 'promote' }] as const)
      assert.equal(r.refused(body, 'bob').kind, 'conflict');
  });

  it('does not count paused time towards a hold', () => {
    const r = new Rollout(plan('  - {weight: 10, hold: 30m}\n  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    r.advance(20).send({ type: 'pause' }, 'bob');
    assert.equal(r.s.pause?.heldMs, 20 * 60_000);
    assert.deepEqual(r.advance(120).tick(), []);
    r.send({ type: 'resume' }, 'bob');
    assert.deepEqual(r.advance(9).tick(), [], '29 minutes held');
    assert.deepEqual(r.advance(1).tick(), ['step-advanced', 'promoted']);
  });

  it('resumes a timed plan pause by itself', () => {
    const r = new Rollout(plan('  - {weight: 10}\n  - {pause: {duration: 1h}}\n  - {weight: 50, hold: 5m}\n  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    assert.equal(r.s.status, 'paused');
    assert.equal(r.s.pause?.until, new Date(T0 + 3_600_000).toISOString());
    assert.deepEqual(r.advance(59).tick(), []);
    assert.deepEqual(r.advance(1).tick(), ['resumed', 'step-advanced']);
    assert.equal(currentWeight(r.s), 50);
  });

  it('holds a window gate until a window is open', () => {
    const r = new Rollout(plan('  - {weight: 10, gates: [window]}\n  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    assert.deepEqual(r.advance(60).tick({ windowOpen: false }), []);
    assert.deepEqual(r.tick({ windowOpen: true }), ['step-advanced', 'promoted']);
  });

  it('a pass for an earlier step does not open the current step’s gate', () => {
    const r = new Rollout(plan('  - {weight: 5}\n  - {weight: 25, gates: [analysis]}\n  - {weight: 100}\n', ANALYSIS)).create();
    r.send({ type: 'start' });
    assert.equal(r.s.stepIndex, 1);
    r.send({ type: 'verdict', verdict: 'pass', step: 0 }, 'analysis');
    assert.equal(r.s.stepIndex, 1);
    assert.equal(r.s.analysisPassedStep, null);
    r.send({ type: 'verdict', verdict: 'pass', step: 1 }, 'analysis');
    assert.equal(r.s.status, 'promoted');
  });
});

describe('regressions and rollback', () => {
  it('rolls back on a failed analysis, drains with counts, and finishes when the gateways report zero', () => {
    const r = new Rollout(plan('  - {weight: 20, hold: 1h}\n  - {weight: 100}\n', ANALYSIS)).create();
    r.send({ type: 'start' });
    const events = r.advance(5).send({ type: 'verdict', verdict: 'fail', details: { metric: 'escalation_rate', canary: 0.22, baseline: 0.08 } }, 'analysis');
    assert.deepEqual(events.map((e) => e.type), ['analysis-verdict', 'rollback-requested']);
    assert.equal(r.s.status, 'rolling-back');
    assert.equal(currentWeight(r.s), 0, 'new units go to the baseline at once');
    assert.deepEqual(routingView(r.s).rolledBack, { mode: 'drain' });
    assert.equal(routingView(r.s).active, true, 'gateways keep the route while canary sessions drain');
    assert.equal(r.refused({ type: 'drain-progress', inFlight: -3 }, 'gateway').kind, 'invalid');
    r.send({ type: 'drain-progress', inFlight: 42 }, 'gateway');
    assert.equal(r.s.rollback?.inFlight, 42);
    assert.deepEqual(r.advance(10).tick(), []);
    r.send({ type: 'drain-progress', inFlight: 0 }, 'gateway');
    assert.equal(r.s.status, 'rolled-back', 'the drain completes as soon as zero is reported');
    assert.equal(r.s.rollback?.forced, undefined);
    assert.deepEqual(routingView(r.s), { ...routingView(r.s), serving: 'baseline', active: false, weight: 0, rolledBack: { mode: 'drain' } });
  });

  it('cuts a drain over after the plan’s drain timeout', () => {
    const r = new Rollout(plan('  - {weight: 20}\n  - {weight: 100, hold: 1h}\n', 'rollback: {mode: drain, drainTimeout: 15m}\n')).create();
    r.send({ type: 'start' });
    r.send({ type: 'rollback', mode: 'drain' }, 'bob');
    r.send({ type: 'drain-progress', inFlight: 7 }, 'gateway');
    assert.deepEqual(r.advance(14).tick(), []);
    assert.deepEqual(r.advance(1).tick(), ['drained']);
    assert.equal(r.s.status, 'rolled-back');
    assert.equal(r.s.rollback?.forced, true);
    assert.equal(r.s.rollback?.inFlight, 7);
  });

  it('a hard rollback ends at once, and escalates a drain in progress', () => {
    const r = new Rollout(plan('  - {weight: 50}\n  - {weight: 100, hold: 1h}\n')).create();
    r.send({ type: 'start' });
    r.send({ type: 'rollback', mode: 'hard' }, 'bob', { reason: 'customers report wrong refunds' });
    assert.equal(r.s.status, 'rolled-back');
    assert.equal(r.s.lastReason, 'customers report wrong refunds');
    assert.deepEqual(routingView(r.s).rolledBack, { mode: 'hard' });

    const d = new Rollout(plan('  - {weight: 50}\n  - {weight: 100, hold: 1h}\n')).create();
    d.send({ type: 'start' });
    d.send({ type: 'rollback' }, 'bob');
    assert.equal(d.s.status, 'rolling-back');
    assert.equal(d.refused({ type: 'rollback', mode: 'drain' }, 'bob').kind, 'conflict');
    d.send({ type: 'rollback', mode: 'hard' }, 'bob');
    assert.equal(d.s.status, 'rolled-back');
    assert.equal(d.s.rollback?.mode, 'hard');
  });

  it('pauses on a regression when the plan says so, and needs a fresh pass after resuming', () => {
    const r = new Rollout(
      plan('  - {weight: 10, gates: [analysis]}\n  - {weight: 100}\n', 'analysis:\n  metrics: [{name: error_rate}]\n  onRegression: pause\n'),
    ).create();
    r.send({ type: 'start' });
    r.send({ type: 'verdict', verdict: 'pass' }, 'analysis');
    assert.equal(r.s.status, 'promoted');

    const p = new Rollout(
      plan('  - {weight: 10, hold: 1h, gates: [analysis]}\n  - {weight: 100}\n', 'analysis:\n  metrics: [{name: error_rate}]\n  onRegression: pause\n'),
    ).create();
    p.send({ type: 'start' });
    p.send({ type: 'verdict', verdict: 'pass' }, 'analysis');
    p.advance(10).send({ type: 'verdict', verdict: 'fail' }, 'analysis');
    assert.equal(p.s.status, 'paused');
    assert.equal(p.s.pause?.kind, 'analysis');
    assert.equal(currentWeight(p.s), 10);
    p.advance(120).send({ type: 'resume' }, 'bob');
    assert.equal(p.s.analysisPassedStep, null);
    assert.deepEqual(p.tick(), [], 'the earlier pass no longer counts');
    assert.deepEqual(p.advance(50).send({ type: 'verdict', verdict: 'pass' }, 'analysis').map((e) => e.type), ['analysis-verdict', 'step-advanced', 'promoted']);
  });

  it('the command’s onRegression overrides the plan’s', () => {
    const r = new Rollout(plan('  - {weight: 10, hold: 1h}\n  - {weight: 100}\n', ANALYSIS)).create();
    r.send({ type: 'start' });
    r.send({ type: 'verdict', verdict: 'fail', onRegression: 'pause' }, 'analysis');
    assert.equal(r.s.status, 'paused');
    assert.equal(r.s.lastVerdict?.onRegression, 'pause');
  });

  it('aborts from any live status, straight to the baseline', () => {
    const r = new Rollout(plan('  - {weight: 10}\n  - {weight: 100, hold: 1h}\n')).create();
    r.send({ type: 'abort' }, 'bob');
    assert.equal(r.s.status, 'aborted');
    assert.deepEqual(routingView(r.s).rolledBack, { mode: 'hard' });
    assert.equal(r.refused({ type: 'start' }).kind, 'conflict');
  });

  it('refuses to roll back what has not started', () => {
    const r = new Rollout(plan('  - {weight: 100}\n')).create();
    assert.match(r.refused({ type: 'rollback' }, 'bob').message, /has not started: abort it instead/);
  });
});

describe('approvals (four eyes)', () => {
  const steps = '  - {weight: 10}\n  - {approval: {role: admin}}\n  - {weight: 100}\n';

  it('refuses the creator, the starter and the system, and checks the role when roles are known', () => {
    const r = new Rollout(plan(steps)).create(undefined, 'alice');
    r.send({ type: 'start' }, 'bob');
    assert.equal(r.s.status, 'awaiting-approval');
    assert.equal(r.s.approval?.requestedBy, 'bob');
    for (const who of ['alice', 'bob', 'sluice']) {
      const e = r.refused({ type: 'approve' }, who);
      assert.equal(e.kind, 'forbidden');
    }
    assert.match(r.refused({ type: 'approve' }, 'carol', { roles: ['operator', 'approver'] }).message, /needs the admin role/);
    r.send({ type: 'approve' }, 'carol', { roles: ['admin'] });
    assert.equal(r.s.status, 'promoted');
  });

  it('promote skips holds but never an approval', () => {
    const r = new Rollout(plan('  - {weight: 10, hold: 2h}\n  - {approval: {}}\n  - {weight: 50, hold: 2h}\n  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    const e = r.refused({ type: 'promote' }, 'alice');
    assert.equal(e.kind, 'conflict');
    assert.match(e.message, /approval at step 2: approve it first/);
    r.advance(120).tick();
    assert.equal(r.s.status, 'awaiting-approval');
    assert.equal(r.refused({ type: 'promote' }, 'carol').kind, 'conflict');
    r.send({ type: 'approve' }, 'carol');
    assert.equal(currentWeight(r.s), 50);
    assert.deepEqual(r.send({ type: 'promote' }, 'alice').map((e) => e.type), ['promoted']);
    assert.equal(currentWeight(r.s), 100);
  });

  it('the reducer itself refuses a self-approval event', () => {
    const r = new Rollout(plan(steps)).create();
    r.send({ type: 'start' });
    const self = { type: 'approved', step: 1, requestId: 'x', at: r.iso(), actor: 'alice' } as const;
    assert.equal(reduce(r.s, self), r.s);
    const other = reduce(r.s, { ...self, actor: 'dave' });
    assert.equal(other.status, 'progressing');
    assert.equal(other.approvals[0]?.approvedBy, 'dave');
  });
});

describe('idempotency, replay and the system clock', () => {
  it('a command sent twice is applied once', () => {
    const r = new Rollout(plan('  - {weight: 10, hold: 1h}\n  - {weight: 100}\n')).create();
    const start = { type: 'start', requestId: 'client-42', actor: 'alice' } as const;
    const first = decide(r.s, start, r.iso());
    assert.ok(first.ok && !first.duplicate && first.events.length === 2);
    r.log.push(...first.events);
    r.state = replay(r.log);
    assert.ok(isDuplicate(r.s, 'client-42'));
    const again = decide(r.s, start, r.iso());
    assert.deepEqual(again, { ok: true, events: [], duplicate: true });
    // Appending the same events again (a retried write) changes nothing either.
    for (const e of first.events) assert.equal(reduce(r.s, e), r.s);
    assert.deepEqual(replay([...r.log, ...first.events]), r.s);
  });

  it('two loops ticking the same state emit the same ids, so the second is a no-op', () => {
    const r = new Rollout(plan('  - {weight: 10, hold: 5m}\n  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    r.advance(5);
    const a = tick(r.s, r.iso());
    const b = tick(r.s, r.iso());
    assert.deepEqual(a, b);
    assert.equal(a.length, 2);
    assert.deepEqual(replay([...r.log, ...a, ...b]), replay([...r.log, ...a]));
    assert.equal(a[0]?.actor, 'sluice');
    assert.match(a[0]?.reason ?? '', /hold 5m elapsed/);
  });

  it('replay needs a log that begins with created', () => {
    assert.throws(() => replay([]), (e: SluiceError) => e.kind === 'invalid' && /begins with a created event/.test(e.message));
    const r = new Rollout(plan('  - {weight: 100}\n')).create();
    r.send({ type: 'start' });
    assert.throws(() => replay(r.log.slice(1)), (e: SluiceError) => e.details[0]?.message === 'found started');
  });

  it('refuses commands for a rollout that does not exist, and a second create', () => {
    const d = decide(undefined, { type: 'start', requestId: 'a', actor: 'alice' }, new Date(T0).toISOString());
    assert.ok(!d.ok && d.error.kind === 'not-found');
    const r = new Rollout(plan('  - {weight: 100}\n')).create();
    assert.equal(r.refused({ type: 'create', rolloutId: 'ro-2', plan: r.plan, baseline: null }).kind, 'conflict');
    const noId = decide(r.s, { type: 'pause', requestId: '', actor: 'alice' }, r.iso());
    assert.ok(!noId.ok && noId.error.kind === 'invalid');
    const badTime = decide(r.s, { type: 'pause', requestId: 'z', actor: 'alice' }, 'yesterday');
    assert.ok(!badTime.ok && badTime.error.kind === 'invalid');
  });

  it('init starts pending with the created event applied', () => {
    const p = plan('  - {weight: 100}\n');
    const s = init({ type: 'created', rolloutId: 'r', plan: p, baseline: null, requestId: 'c', at: new Date(T0).toISOString(), actor: 'alice' });
    assert.deepEqual(invariantViolations(s), []);
    assert.equal(s.status, 'pending');
    assert.deepEqual(s.applied, ['c']);
    assert.equal(s.baseline, null);
  });
});

describe('progress', () => {
  it('says what a step waits for and when its timer ends', () => {
    const r = new Rollout(plan('  - {weight: 5, hold: 10m, gates: [analysis, window]}\n  - {pause: {duration: 1h}}\n  - {approval: {}}\n  - {weight: 100}\n', ANALYSIS + 'rollback: {mode: drain, drainTimeout: 20m}\n')).create();
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: ['start'], timerEndsAt: null });
    r.send({ type: 'start' });
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: ['hold', 'analysis', 'window'], timerEndsAt: new Date(T0 + 600_000).toISOString() });
    r.advance(10);
    assert.deepEqual(rolloutProgress(r.s, r.iso(), { windowOpen: true }).waitingFor, ['analysis']);
    r.send({ type: 'verdict', verdict: 'pass' }, 'analysis');
    assert.deepEqual(rolloutProgress(r.s, r.iso(), { windowOpen: true }).waitingFor, []);
    r.tick({ windowOpen: true });
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: ['resume'], timerEndsAt: new Date(T0 + 70 * 60_000).toISOString() });
    r.advance(60).tick();
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: ['approval'], timerEndsAt: null });
    r.send({ type: 'rollback' }, 'bob');
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: ['drain'], timerEndsAt: new Date(T0 + 90 * 60_000).toISOString() });
    r.send({ type: 'abort' }, 'bob');
    assert.deepEqual(rolloutProgress(r.s, r.iso()), { waitingFor: [], timerEndsAt: null });
  });

  it('refuses to create a rollout from a plan the schema rejects', () => {
    const bad = { ...plan('  - {weight: 100}\n'), steps: [{ weight: 150 }] } as RolloutPlan;
    const d = decide(undefined, { type: 'create', rolloutId: 'r', plan: bad, baseline: null, requestId: 'a', actor: 'alice' }, new Date(T0).toISOString());
    assert.ok(!d.ok);
    assert.equal(d.error.kind, 'invalid');
    assert.ok(d.error.details.some((x) => x.where === 'plan steps[0].weight'));
  });
});

describe('routing view', () => {
  it('shadow mirrors at the weight but always answers from the baseline', () => {
    const r = new Rollout(parsePlan('agent: support-agent\ncandidate: support-agent@2.3.1\nstrategy: shadow\nsteps: [{weight: 30, hold: 1h}]\n')).create();
    r.send({ type: 'start' });
    const v = routingView(r.s);
    assert.equal(v.weight, 30);
    assert.equal(v.serving, 'baseline');
    assert.equal(v.active, true);
  });

  it('carries intents for an intent rollout', () => {
    const r = new Rollout(
      parsePlan('agent: support-agent\ncandidate: support-agent@2.3.1\nstrategy: intent\nintents: [refunds]\nunit: user\nsteps: [{weight: 100, hold: 1h}]\n'),
    ).create();
    r.send({ type: 'start' });
    const v = routingView(r.s);
    assert.deepEqual([v.strategy, v.unit, v.intents, v.weight, v.serving], ['intent', 'user', ['refunds'], 100, 'split']);
  });
});
