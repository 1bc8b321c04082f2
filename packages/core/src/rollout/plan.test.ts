import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { SluiceError } from '../errors/errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { parsePlan, serializePlan, validatePlan, weightAtStep, type RolloutPlanInput } from './plan.js';
import { plan as planArb, planInput } from './testing/arbitraries.js';

const FULL = `# Roll support-agent 2.3.1 out to 5%, then 25% once the analysis passes.
agent: support-agent
baseline: support-agent@2.3.0
candidate: support-agent@2.3.1
strategy: canary
unit: session
steps:
  - {weight: 5, hold: 10m}
  - {weight: 25, hold: 30m, gates: [analysis]}
  - {pause: {}}
  - {approval: {role: approver}}
  - {weight: 100}
analysis:
  interval: 1m
  consecutive: 3
  metrics:
    - {name: escalation_rate, tolerance: {absolute: 0.02}}
  onRegression: rollback
rollback: {mode: drain, drainTimeout: 1h}
`;

/** Parse, expecting a SluiceError; returns it. */
function parseError(text: string, file = 'rollout.yaml'): SluiceError {
  try {
    parsePlan(text, file);
  } catch (e) {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.kind, 'invalid');
    return e;
  }
  assert.fail(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('durations', () => {
  it('reads single and compound units and rejects the rest', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    for (const bad of ['', '10', 'm', '10 m', '1.5h', '30m1h', '-5s', '10ms', '1w']) assert.equal(parseDuration(bad), undefined, bad);
  });

  it('formats and parses back to the same whole seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 86_400 }), (s) => assert.equal(parseDuration(formatDuration(s * 1000)), s * 1000)));
  });
});

describe('parsePlan', () => {
  it('reads the documented example with every field', () => {
    const p = parsePlan(FULL, 'rollout.yaml');
    assert.equal(p.agent, 'support-agent');
    assert.equal(p.baseline, 'support-agent@2.3.0');
    assert.equal(p.strategy, 'canary');
    assert.equal(p.steps.length, 5);
    assert.deepEqual(p.steps[1], { weight: 25, hold: '30m', gates: ['analysis'] });
    assert.deepEqual(p.steps[3], { approval: { role: 'approver' } });
    assert.equal(p.analysis?.onRegression, 'rollback');
    assert.deepEqual(p.rollback, { mode: 'drain', drainTimeout: '1h' });
    assert.deepEqual([-1, 0, 1, 2, 3, 4].map((i) => weightAtStep(p, i)), [0, 5, 25, 25, 25, 100]);
  });

  it('reads the example in docs/rollouts.md', () => {
    const doc = readFileSync(new URL('../../../../docs/rollouts.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'docs/rollouts.md has a yaml example');
    const p = parsePlan(example, 'docs/rollouts.md');
    assert.equal(p.steps.length, 7);
    assert.deepEqual(p.steps[5], { weight: 50, hold: '1h', gates: ['analysis', 'window'] });
    assert.equal(p.analysis?.metrics.length, 2);
  });

  it('fills defaults: canary by session, drain on rollback, approver role', () => {
    const p = parsePlan('agent: a\ncandidate: a@2\nsteps: [{approval: {}}, {weight: 100}]\n');
    assert.equal(p.strategy, 'canary');
    assert.equal(p.unit, 'session');
    assert.deepEqual(p.rollback, { mode: 'drain' });
    assert.deepEqual(p.steps[0], { approval: { role: 'approver' } });
    assert.equal(p.baseline, undefined);
  });

  // Each bad plan: the field path its error must name, the line it is on, and what it must say.
  const cases: { name: string; yaml: string; field: string; line?: number; message: RegExp }[] = [
    { name: 'weight over 100', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 150}\n', field: 'steps[0].weight', line: 4, message: /between 0 and 100/ },
    { name: 'fractional weight', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 2.5}\n  - {weight: 100}\n', field: 'steps[0].weight', line: 4, message: /whole number/ },
    { name: 'decreasing weights', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 50}\n  - {weight: 20}\n  - {weight: 100}\n', field: 'steps[1].weight', line: 5, message: /must not decrease: 20 comes after 50/ },
    { name: 'hold without unit', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - weight: 10\n    hold: 30\n  - {weight: 100}\n', field: 'steps[0].hold', line: 5, message: /duration like 30s/ },
    { name: 'misspelt field', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {wieght: 10}\n  - {weight: 100}\n', field: 'steps[0].wieght', line: 4, message: /unknown field wieght/ },
    { name: 'two kinds in one step', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 10, pause: {}}\n  - {weight: 100}\n', field: 'steps[0]', line: 4, message: /exactly one of weight, pause or approval/ },
    { name: 'a step that is no kind', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {hold: 1m}\n  - {weight: 100}\n', field: 'steps[0]', line: 4, message: /one of \{weight/ },
    { name: 'bad pause duration', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {pause: {duration: soon}}\n  - {weight: 100}\n', field: 'steps[0].pause.duration', line: 4, message: /duration/ },
    { name: 'unknown approval role', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {approval: {role: intern}}\n  - {weight: 100}\n', field: 'steps[0].approval.role', line: 4, message: /approver, admin/ },
    { name: 'no steps', yaml: 'agent: a\ncandidate: a@2\nsteps: []\n', field: 'steps', line: 3, message: /at least one step/ },
    { name: 'missing steps', yaml: 'agent: a\ncandidate: a@2\n', field: 'steps', message: /steps must be a list/ },
    { name: 'only a pause', yaml: 'agent: a\ncandidate: a@2\nsteps: [{pause: {}}]\n', field: 'steps', line: 3, message: /at least one weight step/ },
    { name: 'canary that stops short', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 5}\n  - {weight: 50}\n', field: 'steps[1].weight', line: 5, message: /must reach 100 \(it is 50\)/ },
    { name: 'blue-green half way', yaml: 'agent: a\ncandidate: a@2\nstrategy: blue-green\nsteps:\n  - {weight: 50}\n  - {weight: 100}\n', field: 'steps[0].weight', line: 5, message: /weight 0 or 100/ },
    { name: 'unknown strategy', yaml: 'agent: a\ncandidate: a@2\nstrategy: yolo\nsteps: [{weight: 100}]\n', field: 'strategy', line: 3, message: /canary, intent, shadow, blue-green/ },
    { name: 'unknown unit', yaml: 'agent: a\ncandidate: a@2\nunit: tenant\nsteps: [{weight: 100}]\n', field: 'unit', line: 3, message: /session, user, request/ },
    { name: 'intent without intents', yaml: 'agent: a\ncandidate: a@2\nstrategy: intent\nsteps: [{weight: 100}]\n', field: 'intents', message: /at least one intent/ },
    { name: 'intents on a canary', yaml: 'agent: a\ncandidate: a@2\nintents: [refunds]\nsteps: [{weight: 100}]\n', field: 'intents', line: 3, message: /only apply to strategy intent/ },
    { name: 'candidate of another agent', yaml: 'agent: a\ncandidate: b@2\nsteps: [{weight: 100}]\n', field: 'candidate', line: 2, message: /not a release of agent a/ },
    { name: 'candidate without version', yaml: 'agent: a\ncandidate: a\nsteps: [{weight: 100}]\n', field: 'candidate', line: 2, message: /agent@version/ },
    { name: 'baseline is the candidate', yaml: 'agent: a\nbaseline: a@2\ncandidate: a@2\nsteps: [{weight: 100}]\n', field: 'candidate', line: 3, message: /same release/ },
    { name: 'analysis gate without analysis', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 5, gates: [analysis]}\n  - {weight: 100}\n', field: 'steps[0].gates', line: 4, message: /needs an analysis section/ },
    { name: 'unknown gate', yaml: 'agent: a\ncandidate: a@2\nsteps:\n  - {weight: 5, gates: [vibes]}\n  - {weight: 100}\n', field: 'steps[0].gates[0]', line: 4, message: /analysis, window/ },
    { name: 'bad rollback mode', yaml: 'agent: a\ncandidate: a@2\nsteps: [{weight: 100}]\nrollback: {mode: gentle}\n', field: 'rollback.mode', line: 4, message: /drain or hard/ },
    { name: 'unknown top-level field', yaml: 'agent: a\ncandidate: a@2\nsteps: [{weight: 100}]\nrolback: {mode: hard}\n', field: 'rolback', line: 4, message: /unknown field/ },
    { name: 'bad analysis metric', yaml: 'agent: a\ncandidate: a@2\nsteps: [{weight: 100}]\nanalysis:\n  metrics:\n    - {name: vibes}\n', field: 'analysis.metrics[0].source', line: 6, message: /not a built-in metric/ },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}, naming ${c.field}`, () => {
      const e = parseError(c.yaml, 'plans/r.yaml');
      const detail = e.details.find((d) => d.where?.endsWith(` ${c.field}`));
      assert.ok(detail, `no detail names ${c.field}: ${JSON.stringify(e.details)}`);
      assert.match(detail.message, c.message);
      assert.match(detail.where!, /^plans\/r\.yaml/);
      if (c.line !== undefined) assert.equal(detail.where, `plans/r.yaml:${c.line} ${c.field}`);
      assert.match(e.message, /^invalid rollout plan plans\/r\.yaml/);
    });
  }

  it('reports YAML syntax errors with their line', () => {
    const e = parseError('agent: a\ncandidate: a@2\nsteps:\n  - {weight: 5\n', 'x.yaml');
    assert.match(e.details[0]!.where!, /^x\.yaml:\d+$/);
    assert.match(e.message, /not valid YAML/);
  });

  it('rejects duplicate keys and documents that are not a mapping', () => {
    assert.match(parseError('agent: a\nagent: b\ncandidate: a@2\nsteps: [{weight: 100}]\n').message, /not valid YAML/);
    assert.match(parseError('- weight: 5\n').message, /expected a mapping/);
    assert.match(parseError('').message, /expected a mapping/);
  });

  it('accepts a shadow plan that mirrors a share, and blue-green 0 → 100', () => {
    assert.equal(parsePlan('agent: a\ncandidate: a@2\nstrategy: shadow\nsteps: [{weight: 20, hold: 1h}]\n').steps.length, 1);
    assert.equal(parsePlan('agent: a\ncandidate: a@2\nstrategy: blue-green\nsteps: [{weight: 0, hold: 5m}, {approval: {}}, {weight: 100}]\n').strategy, 'blue-green');
  });
});

describe('plan round trip (property)', () => {
  it('parse(serialize(plan)) gives back the plan, and YAML and JSON inputs agree', () => {
    fc.assert(
      fc.property(planArb, (p) => {
        assert.deepEqual(parsePlan(serializePlan(p)), p);
        assert.deepEqual(validatePlan(JSON.parse(JSON.stringify(p))), p);
      }),
      { numRuns: 300 },
    );
  });

  it('author-written input parses to the same plan from YAML and from JSON', () => {
    fc.assert(fc.property(planInput, (input) => assert.deepEqual(parsePlan(stringify(input)), validatePlan(input))), { numRuns: 200 });
  });

  // Break one field of a valid plan; the error must name that field (with a line from YAML).
  type Mutation = { field: (p: RolloutPlanInput) => string; apply: (p: RolloutPlanInput) => void };
  const stepIndex = (p: RolloutPlanInput) => p.steps.findIndex((s) => 'weight' in s);
  const mutations: fc.Arbitrary<Mutation> = fc.oneof(
    fc.oneof(fc.integer({ min: 101, max: 10_000 }), fc.integer({ min: -10_000, max: -1 }), fc.constant(12.5), fc.constant('ten')).map((bad) => ({
      field: (p: RolloutPlanInput) => `steps[${stepIndex(p)}].weight`,
      apply: (p: RolloutPlanInput) => {
        (p.steps[stepIndex(p)] as { weight: unknown }).weight = bad;
      },
    })),
    fc.constantFrom('10', 'ten minutes', '5x', '1m1h', '').map((bad) => ({
      field: (p: RolloutPlanInput) => `steps[${stepIndex(p)}].hold`,
      apply: (p: RolloutPlanInput) => {
        (p.steps[stepIndex(p)] as { hold: unknown }).hold = bad;
      },
    })),
    fc.constantFrom('strategy', 'unit').map((key) => ({
      field: () => key,
      apply: (p: RolloutPlanInput) => {
        (p as Record<string, unknown>)[key] = 'nonsense';
      },
    })),
    fc.stringMatching(/^[a-z]{3,8}$/).filter((k) => !['agent', 'baseline', 'candidate', 'description', 'strategy', 'unit', 'intents', 'steps', 'analysis', 'rollback'].includes(k)).map((key) => ({
      field: () => key,
      apply: (p: RolloutPlanInput) => {
        (p as Record<string, unknown>)[key] = 1;
      },
    })),
    fc.constant<Mutation>({ field: () => 'rollback.mode', apply: (p: RolloutPlanInput) => void (p.rollback = { mode: 'later' as 'hard' }) }),
    fc.constant<Mutation>({ field: () => 'candidate', apply: (p: RolloutPlanInput) => void (p.candidate = 'other-agent@1.0.0') }),
  );

  it('a plan broken in one field is rejected with an error naming that field and its line', () => {
    fc.assert(
      fc.property(planInput, mutations, (input, m) => {
        const broken = structuredClone(input);
        m.apply(broken);
        const field = m.field(broken);
        const e = parseError(stringify(broken), 'p.yaml');
        const detail = e.details.find((d) => d.where?.endsWith(` ${field}`));
        assert.ok(detail, `expected an error at ${field}, got ${JSON.stringify(e.details)}`);
        assert.match(detail.where!, /^p\.yaml:\d+ /);
      }),
      { numRuns: 300 },
    );
  });
});
