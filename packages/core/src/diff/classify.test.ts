import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSluiceError, type SluiceError } from '../errors/errors.js';
import { classify } from './classify.js';
import { classAtLeast, classRank, CONCERNS, DEFAULT_POLICY, parseClassificationPolicy, type Concern } from './policy.js';
import { diffReleases, type ReleaseDiff } from './release-diff.js';
import { reverseLevel } from './schema-compat.js';
import { buildRelease, edit, supportAgent, type AgentSpec } from './testing/fixtures.js';

const base = supportAgent();
const diff = (a: AgentSpec, b: AgentSpec, policy = DEFAULT_POLICY) => diffReleases(buildRelease(a), buildRelease(b), policy);
type Props = { properties: Record<string, unknown>; required?: string[] };

/** One edit per concern, each parametrized by a small random value, touching disjoint parts. */
const ATOMS: Record<Concern, (s: AgentSpec, n: number) => void> = {
  prompt: (s, n) => void (s.prompts![n % 2 === 0 ? 'system' : `extra${n}`] = `Prompt variant ${n}.\n`),
  model: (s, n) => void (s.model = n % 3 === 0 ? { provider: 'anthropic', name: 'claude', params: {} } : { provider: 'openai', name: 'gpt-5-mini', params: { temperature: n / 10 + 1 } }),
  tools: (s, n) => {
    const t = s.tools![n % 2]!;
    const schema = t.schema as Props;
    if (n % 3 === 0) schema.required = [...(schema.required ?? []), `p${n}`];
    else schema.properties[`p${n}`] = { type: 'string' };
    if (n % 5 === 0) s.tools!.push({ name: `tool${n}`, schema: { type: 'object' }, risk: 'low' });
  },
  'approval-rules': (s, n) => void ((s.policies as { approvals: Record<string, number> }).approvals.refundAboveUsd = 1000 + n),
  memory: (s, n) => void ((s.memory as Props).properties[`m${n}`] = n % 2 === 0 ? { type: 'string' } : {}),
  runtime: (s, n) => void ((s.runtime as Record<string, number>).timeoutMs = 1000 + n),
  secrets: (s, n) => void (s.secrets as string[]).push(`SECRET_${n}`),
  integrations: (s, n) => void (s.integrations = [{ name: 'zendesk', scopes: ['tickets.write', `scope.${n}`] }]),
  orchestration: (s, n) => void (s.orchestration = `export const run = () => ${n};\n`),
};

const applyAtoms = (concerns: Concern[], n: number) => edit(base, (s) => concerns.forEach((c) => ATOMS[c](s, n)));
const concernSet = fc.subarray([...CONCERNS]);

function mirror<T extends { change: string }>(x: T): string {
  return x.change === 'added' ? 'removed' : x.change === 'removed' ? 'added' : 'changed';
}

describe('classification properties', () => {
  it('diff(a, a) is empty and classifies as no change', () => {
    fc.assert(
      fc.property(concernSet, fc.nat(50), (cs, n) => {
        const a = applyAtoms(cs, n);
        const d = diff(a, a);
        assert.equal(d.identical, true);
        assert.deepEqual(d.concerns, []);
        assert.equal(d.classification.class, 'none');
        assert.deepEqual([d.prompts, d.tools, d.runtime, d.policies, d.approvals, d.notes, d.secrets.added, d.secrets.removed], [[], [], [], [], [], [], [], []]);
        assert.deepEqual([d.model, d.memory, d.orchestration], [null, null, null]);
      }),
      { numRuns: 50 },
    );
  });

  it('diff is antisymmetric: added ↔ removed, before ↔ after, BACKWARD ↔ FORWARD', () => {
    fc.assert(
      fc.property(concernSet, concernSet, fc.nat(50), fc.nat(50), (ca, cb, na, nb) => {
        const ab = diff(applyAtoms(ca, na), applyAtoms(cb, nb));
        const ba = diff(applyAtoms(cb, nb), applyAtoms(ca, na));
        assert.deepEqual(ab.concerns, ba.concerns);
        assert.deepEqual(ab.prompts.map((p) => [p.name, mirror(p), p.linesRemoved, p.linesAdded]), ba.prompts.map((p) => [p.name, p.change, p.linesAdded, p.linesRemoved]));
        assert.deepEqual(ab.tools.map((t) => [t.name, mirror(t), t.schema && reverseLevel(t.schema.level)]), ba.tools.map((t) => [t.name, t.change, t.schema?.level]));
        assert.deepEqual(ab.secrets, { added: ba.secrets.removed, removed: ba.secrets.added });
        assert.deepEqual(ab.integrations.added, ba.integrations.removed);
        assert.deepEqual(ab.runtime.map((f) => [f.path, f.before, f.after]), ba.runtime.map((f) => [f.path, f.after, f.before]));
        assert.equal(ab.model?.vendorSwap, ba.model?.vendorSwap);
        assert.equal(ab.memory?.compatibility && reverseLevel(ab.memory.compatibility.level), ba.memory?.compatibility?.level);
      }),
      { numRuns: 60 },
    );
  });

  it('is monotone: touching one more concern never lowers the class', () => {
    fc.assert(
      fc.property(concernSet, fc.constantFrom(...CONCERNS), fc.nat(50), (cs, extra, n) => {
        fc.pre(!cs.includes(extra));
        const before = diff(base, applyAtoms(cs, n)).classification.class;
        const after = diff(base, applyAtoms([...cs, extra], n));
        assert.ok(after.concerns.includes(extra));
        assert.ok(classRank(after.classification.class) >= classRank(before), `${cs.join(',')} + ${extra}: ${before} → ${after.classification.class}`);
      }),
      { numRuns: 80 },
    );
  });

  it('the class is the highest class among the reasons, and three or more concerns are large', () => {
    fc.assert(
      fc.property(concernSet, fc.nat(50), (cs, n) => {
        const d = diff(base, applyAtoms(cs, n));
        const top = d.classification.reasons.reduce((m, r) => Math.max(m, classRank(r.class)), 0);
        assert.equal(classRank(d.classification.class), top);
        if (d.concerns.length >= 3) {
          assert.equal(d.classification.class, 'large');
          assert.equal(d.classification.warnings.filter((w) => w.includes('ship one grouped change')).length, 1);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('classification policy', () => {
  const promptOnly = edit(base, (s) => void (s.prompts!.system = 'Changed.\n'));

  it('a policy can raise a concern, add sensitive tags, lower the concern limit and require FULL memory', () => {
    const policy = parseClassificationPolicy(
      { concerns: { prompt: 'medium' }, sensitiveTags: ['money', 'customer-data', 'pii'], maxConcerns: 1, compatibility: { memory: 'FULL' } },
      'policy.yaml',
    );
    assert.equal(diff(base, promptOnly, policy).classification.class, 'medium');
    assert.deepEqual(policy.rules, DEFAULT_POLICY.rules);

    const pii = edit(base, (s) => {
      s.tools![0]!.tags = ['pii'];
    });
    assert.equal(diff(base, pii).classification.class, 'medium');
    assert.equal(diff(base, pii, policy).classification.class, 'large');

    const two = edit(promptOnly, (s) => void ((s.runtime as Record<string, number>).retries = 5));
    assert.ok(diff(base, two, policy).classification.warnings.some((w) => w.includes('ship one grouped change')));
    assert.equal(diff(base, two).classification.warnings.length, 0);

    // Dropping a required memory property is BACKWARD only: fine by default, breaking under FULL.
    const mem = edit(base, (s) => void ((s.memory as Props).required = []));
    assert.equal(diff(base, mem).classification.class, 'medium');
    assert.equal(diff(base, mem, policy).classification.class, 'large');
  });

  it('rules can be re-classed', () => {
    const swap = edit(base, (s) => void (s.model = { provider: 'anthropic', name: 'claude', params: { temperature: 0.2 } }));
    const policy = parseClassificationPolicy({ rules: { 'vendor-swap': 'medium' } }, 'p.yaml');
    assert.equal(diff(base, swap, policy).classification.class, 'medium');
  });

  it('rejects a bad policy naming the file and every bad field', () => {
    let err: SluiceError | undefined;
    try {
      parseClassificationPolicy({ concerns: { promt: 'small', model: 'huge' }, maxConcerns: -1, extra: true }, 'ops/policy.yaml');
    } catch (e) {
      if (isSluiceError(e)) err = e;
    }
    assert.ok(err);
    assert.equal(err.kind, 'invalid');
    const wheres = err.details.map((d) => d.where).sort();
    assert.deepEqual(wheres, ['ops/policy.yaml: concerns.model', 'ops/policy.yaml: concerns.promt', 'ops/policy.yaml: extra', 'ops/policy.yaml: maxConcerns']);
    assert.match(err.message, /^ops\/policy\.yaml: invalid classification policy/);
  });

  it('an empty policy is the default; classAtLeast orders classes', () => {
    assert.deepEqual(parseClassificationPolicy(null, 'p'), { ...DEFAULT_POLICY });
    assert.ok(classAtLeast('large', 'medium'));
    assert.ok(!classAtLeast('small', 'medium'));
    assert.ok(classAtLeast('none', 'none'));
  });

  it('classify agrees with the classification diffReleases embeds', () => {
    const d: ReleaseDiff = diff(base, applyAtoms(['tools', 'prompt'], 3));
    assert.deepEqual(classify(d, DEFAULT_POLICY), d.classification);
  });
});
