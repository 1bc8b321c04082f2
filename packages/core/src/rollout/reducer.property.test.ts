import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SluiceError } from '../errors/errors.js';
import { decide, tick } from './decide.js';
import { assertInvariant } from './invariant.js';
import { rolloutProgress } from './progress.js';
import { reduce, replay } from './reducer.js';
import { ACTIVE_STATUSES, ROLLOUT_STATUSES, isTerminal, type RolloutEvent, type RolloutEventBody, type RolloutState } from './state.js';
import { ACTORS, plan as planArb, runStep } from './testing/arbitraries.js';
import { routingView } from './view.js';

const EVENT_TYPES = ['created', 'started', 'step-advanced', 'paused', 'resumed', 'approval-requested', 'approved', 'promoted', 'analysis-verdict', 'rollback-requested', 'drain-progress', 'drained', 'aborted'] as const;
const T0 = Date.parse('2026-03-01T09:00:00.000Z');

/** Checks that hold between one state and the next, whatever happened in between. */
function checkStep(prev: RolloutState, next: RolloutState) {
  assertInvariant(next);
  if (isTerminal(prev.status)) assert.equal(next, prev, `${prev.status} is terminal but the state changed`);
  if (ACTIVE_STATUSES.includes(prev.status) && ACTIVE_STATUSES.includes(next.status))
    assert.ok(next.weight >= prev.weight, `weight fell from ${prev.weight} to ${next.weight} while ${next.status}`);
  assert.ok(next.stepIndex >= prev.stepIndex, 'steps never go back');
  const view = routingView(next);
  assert.equal(view.weight, next.weight);
}

describe('rollout state machine (property)', () => {
  it('random commands and ticks keep every invariant, and the log replays to the same state', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(planArb, fc.array(runStep, { minLength: 20, maxLength: 80 }), (plan, steps) => {
        let now = T0;
        const iso = () => new Date(now).toISOString();
        const created = decide(undefined, { type: 'create', rolloutId: 'ro', plan, baseline: plan.baseline ?? null, requestId: 'create', actor: 'alice' }, iso());
        assert.ok(created.ok);
        const log: RolloutEvent[] = [...created.events];
        let state = replay(log);
        assertInvariant(state);
        const accepted = new Set(['create']);
        const apply = (events: RolloutEvent[]) => {
          for (const e of events) {
            const next = reduce(state, e);
            assert.notEqual(next, state, `decide/tick produced ${e.type} which does not apply in ${state.status}`);
            checkStep(state, next);
            reached.add(next.status);
            reached.add(e.type);
            log.push(e);
            state = next;
          }
        };
        for (const step of steps) {
          now += step.advanceSeconds * 1000;
          if (step.kind === 'tick') {
            const before = state;
            const signals = { windowOpen: step.windowOpen };
            const due = tick(state, iso(), signals);
            // What progress says the rollout waits for agrees with what the tick does.
            if (state.status === 'progressing')
              assert.equal(due.length > 0, rolloutProgress(state, iso(), signals).waitingFor.length === 0, 'progress and tick disagree');
            apply(due);
            // Ticking again at the same moment finds nothing more to do.
            if (state !== before) assert.deepEqual(tick(state, iso(), { windowOpen: step.windowOpen }), []);
            continue;
          }
          const d = decide(state, step.command, iso());
          if (accepted.has(step.command.requestId)) {
            assert.deepEqual(d, { ok: true, events: [], duplicate: true }, 'a reused requestId is a no-op');
            continue;
          }
          if (!d.ok) {
            assert.ok(d.error instanceof SluiceError);
            assert.ok(['conflict', 'forbidden', 'invalid', 'not-found'].includes(d.error.kind));
            continue;
          }
          assert.ok(d.events.length > 0);
          assert.equal(d.duplicate, false);
          accepted.add(step.command.requestId);
          apply(d.events);
          if (step.command.type === 'approve') assert.ok(!['alice', 'sluice'].includes(step.command.actor), 'four eyes');
        }
        // The stored log (as JSON, like a database row) rebuilds exactly this state, and
        // appending it all again (a retried write) changes nothing.
        const stored = JSON.parse(JSON.stringify(log)) as RolloutEvent[];
        assert.deepEqual(replay(stored), state);
        assert.deepEqual(replay([...stored, ...stored]), state);
        assert.equal(state.version, log.length);
      }),
      { numRuns: 400 },
    );
    // The generators must actually reach every status and every event, or the above proves little.
    for (const name of [...ROLLOUT_STATUSES, ...EVENT_TYPES].filter((n) => n !== 'pending' && n !== 'created'))
      assert.ok(reached.has(name), `no run reached ${name}`);
  });

  it('reduce is total: arbitrary events, valid or not, never throw or break an invariant', () => {
    const body: fc.Arbitrary<RolloutEventBody> = fc.oneof(
      fc.constant({ type: 'started' as const }),
      fc.record({ type: fc.constant('step-advanced' as const), step: fc.integer({ min: -2, max: 8 }), weight: fc.constantFrom(0, 5, 10, 25, 50, 100, 150) }),
      fc.record({ type: fc.constant('paused' as const), kind: fc.constantFrom('plan', 'manual', 'analysis' as const), step: fc.integer({ min: -1, max: 8 }) }),
      fc.constant({ type: 'resumed' as const }),
      fc.record({ type: fc.constant('approval-requested' as const), step: fc.integer({ min: -1, max: 8 }), role: fc.constantFrom('approver', 'admin' as const), requestedBy: fc.constantFrom(...ACTORS) }),
      fc.record({ type: fc.constant('approved' as const), step: fc.integer({ min: -1, max: 8 }) }),
      fc.record({ type: fc.constant('promoted' as const), manual: fc.boolean() }),
      fc.record({
        type: fc.constant('analysis-verdict' as const),
        verdict: fc.constantFrom('pass', 'fail', 'inconclusive', 'nodata' as const),
        onRegression: fc.constantFrom('rollback', 'pause' as const),
        step: fc.integer({ min: -1, max: 8 }),
      }),
      fc.record({ type: fc.constant('rollback-requested' as const), mode: fc.constantFrom('drain', 'hard' as const) }),
      fc.record({ type: fc.constant('drain-progress' as const), inFlight: fc.integer({ min: -5, max: 100 }) }),
      fc.record({ type: fc.constant('drained' as const), forced: fc.boolean() }),
      fc.constant({ type: 'aborted' as const }),
      fc.constant({ type: 'created' as const, rolloutId: 'again', plan: undefined as never, baseline: null }),
    );
    const event = fc.record({
      body,
      requestId: fc.nat(30).map((n) => `e${n}`),
      actor: fc.constantFrom(...ACTORS),
      advance: fc.oneof(fc.nat(7200), fc.constant(-60)),
    });
    fc.assert(
      fc.property(planArb, fc.array(event, { maxLength: 80 }), (plan, raw) => {
        let now = T0;
        const log: RolloutEvent[] = [{ type: 'created', rolloutId: 'ro', plan, baseline: null, requestId: 'c', at: new Date(now).toISOString(), actor: 'alice' }];
        let state = replay(log);
        for (const r of raw) {
          now += r.advance * 1000;
          const e = { ...r.body, requestId: r.requestId, actor: r.actor, at: new Date(now).toISOString() } as RolloutEvent;
          const next = reduce(state, e);
          checkStep(state, next);
          log.push(e);
          state = next;
        }
        // Ignored events stay in the log; replay ignores them the same way.
        assert.deepEqual(replay(log), state);
      }),
      { numRuns: 400 },
    );
  });
});
