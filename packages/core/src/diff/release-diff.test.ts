import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blobsNeededForDiff, diffReleases } from './release-diff.js';
import { buildRelease, edit, supportAgent, type AgentSpec } from './testing/fixtures.js';

const base = supportAgent();
const diff = (a: AgentSpec, b: AgentSpec) => diffReleases(buildRelease(a), buildRelease(b));
const bump = (s: AgentSpec) => void (s.version = '2.4.0');

describe('diffReleases', () => {
  it('a release against itself: identical, nothing touched, class none', () => {
    const d = diff(base, base);
    assert.equal(d.identical, true);
    assert.deepEqual(d.concerns, []);
    assert.equal(d.classification.class, 'none');
    assert.deepEqual(d.prompts, []);
    assert.deepEqual(d.tools, []);
  });

  it('a prompt-only change is small, with a unified text diff', () => {
    const b = edit(base, (s) => {
      bump(s);
      s.prompts!.system = 'You are a support agent.\nBe brief and kind.\nNever promise refunds.\n';
    });
    const d = diff(base, b);
    assert.deepEqual(d.concerns, ['prompt']);
    assert.equal(d.classification.class, 'small');
    assert.equal(d.prompts.length, 1);
    const p = d.prompts[0]!;
    assert.equal(p.name, 'system');
    assert.equal(p.change, 'changed');
    assert.equal(p.linesAdded, 1);
    assert.equal(p.linesRemoved, 1);
    assert.match(p.patch!, /^--- a\/prompts\/system\.md\n\+\+\+ b\/prompts\/system\.md\n@@ -1,3 \+1,3 @@\n You are a support agent\.\n-Be brief\.\n\+Be brief and kind\.\n/);
  });

  it('a model parameter change is medium; a provider change is a vendor swap and large', () => {
    const params = diff(base, edit(base, (s) => void ((s.model as { params: { temperature: number } }).params.temperature = 0.7)));
    assert.deepEqual(params.concerns, ['model']);
    assert.equal(params.classification.class, 'medium');
    assert.deepEqual(params.model!.fields, [{ path: '/params/temperature', change: 'changed', before: 0.2, after: 0.7 }]);
    assert.equal(params.model!.vendorSwap, false);

    const swap = diff(base, edit(base, (s) => void (s.model = { provider: 'anthropic', name: 'claude-haiku', params: { temperature: 0.2 } })));
    assert.equal(swap.model!.vendorSwap, true);
    assert.deepEqual(swap.model!.provider, { before: 'openai', after: 'anthropic' });
    assert.equal(swap.classification.class, 'large');
    assert.ok(swap.classification.reasons.some((r) => r.rule === 'vendor-swap' && /openai → anthropic/.test(r.message)));
  });

  it('a tool schema gaining a required argument is breaking and large', () => {
    const b = edit(base, (s) => {
      const t = s.tools!.find((x) => x.name === 'lookup_order')!;
      t.schema = { type: 'object', properties: { orderId: { type: 'string' }, region: { type: 'string' } }, required: ['orderId', 'region'] };
    });
    const d = diff(base, b);
    const t = d.tools[0]!;
    assert.equal(t.name, 'lookup_order');
    assert.equal(t.breaking, true);
    assert.equal(t.schema!.level, 'FORWARD');
    assert.equal(d.classification.class, 'large');
    const reason = d.classification.reasons.find((r) => r.rule === 'breaking-tool')!;
    assert.match(reason.message, /required property "region" added at the root/);
  });

  it('a compatible tool change is medium; risk, external and tag changes are reported', () => {
    const b = edit(base, (s) => {
      const t = s.tools!.find((x) => x.name === 'lookup_order')!;
      t.schema = { type: 'object', properties: { orderId: { type: 'string' }, verbose: { type: 'boolean' } }, required: ['orderId'] };
      t.risk = 'medium';
      t.external = true;
      t.tags = ['read-only'];
    });
    const d = diff(base, b);
    const t = d.tools[0]!;
    assert.equal(t.breaking, false);
    assert.equal(t.schema!.level, 'FULL');
    assert.deepEqual(t.risk, { before: 'low', after: 'medium' });
    assert.deepEqual(t.external, { before: false, after: true });
    assert.deepEqual(t.tags, { added: ['read-only'], removed: [] });
    assert.equal(d.classification.class, 'medium');
  });

  it('any change to a money-tagged tool is large, even a compatible one', () => {
    const b = edit(base, (s) => {
      const t = s.tools!.find((x) => x.name === 'issue_refund')!;
      (t.schema as { properties: Record<string, unknown> }).properties.reason = { type: 'string' };
    });
    const d = diff(base, b);
    assert.equal(d.tools[0]!.breaking, false);
    assert.deepEqual(d.tools[0]!.sensitiveTags, ['money']);
    assert.equal(d.classification.class, 'large');
    assert.ok(d.classification.reasons.some((r) => r.rule === 'sensitive-tool' && r.message.includes('issue_refund')));
  });

  it('a removed tool is breaking; an added one is not', () => {
    const removed = diff(base, edit(base, (s) => void (s.tools = s.tools!.filter((t) => t.name !== 'lookup_order'))));
    assert.equal(removed.tools[0]!.change, 'removed');
    assert.equal(removed.tools[0]!.breaking, true);
    assert.equal(removed.classification.class, 'large');
    const added = diff(base, edit(base, (s) => void s.tools!.push({ name: 'search_kb', schema: { type: 'object' }, risk: 'low' })));
    assert.equal(added.tools[0]!.change, 'added');
    assert.equal(added.tools[0]!.breaking, false);
    assert.equal(added.classification.class, 'medium');
  });

  it('memory schema: compatible → medium, breaking → large', () => {
    const compatible = diff(base, edit(base, (s) => void ((s.memory as { properties: Record<string, unknown> }).properties.lang = { type: 'string' })));
    assert.equal(compatible.memory!.compatibility!.level, 'FULL');
    assert.equal(compatible.classification.class, 'medium');
    const breaking = diff(base, edit(base, (s) => void ((s.memory as { properties: Record<string, unknown> }).properties.turns = { type: 'string' })));
    assert.equal(breaking.memory!.compatibility!.level, 'NONE');
    assert.equal(breaking.memory!.breaking, true);
    assert.equal(breaking.classification.class, 'large');
  });

  it('runtime, policies and approval rules are diffed field by field', () => {
    const d = diff(
      base,
      edit(base, (s) => {
        s.runtime = { timeoutMs: 60000, retries: 2, concurrency: 16, queue: { max: 800 } };
        s.policies = { escalation: { confidenceBelow: 0.5 }, approvals: { refundAboveUsd: 100, requireTwo: true } };
      }),
    );
    assert.deepEqual(d.runtime, [
      { path: '/queue/max', change: 'changed', before: 500, after: 800 },
      { path: '/timeoutMs', change: 'changed', before: 30000, after: 60000 },
    ]);
    assert.deepEqual(d.policies, [{ path: '/escalation/confidenceBelow', change: 'changed', before: 0.4, after: 0.5 }]);
    assert.deepEqual(d.approvals, [
      { path: '/approvals/refundAboveUsd', change: 'changed', before: 200, after: 100 },
      { path: '/approvals/requireTwo', change: 'added', after: true },
    ]);
    assert.deepEqual(d.concerns, ['approval-rules', 'runtime']);
    assert.equal(d.classification.class, 'medium');
  });

  it('secrets and integrations: added, removed, scopes', () => {
    const d = diff(
      base,
      edit(base, (s) => {
        s.secrets = ['OPENAI_API_KEY', 'STRIPE_KEY'];
        s.integrations = [{ name: 'zendesk', scopes: ['tickets.write', 'users.read'] }, { name: 'stripe', scopes: ['refunds'] }];
      }),
    );
    assert.deepEqual(d.secrets, { added: ['STRIPE_KEY'], removed: ['ZENDESK_TOKEN'] });
    assert.deepEqual(d.integrations.added, [{ name: 'stripe', scopes: ['refunds'] }]);
    assert.deepEqual(d.integrations.changed, [{ name: 'zendesk', scopesAdded: ['users.read'], scopesRemoved: [], fields: [] }]);
    assert.deepEqual(d.concerns, ['secrets', 'integrations']);
  });

  it('three concerns at once are large and warn to ship one grouped change', () => {
    const d = diff(
      base,
      edit(base, (s) => {
        s.prompts!.triage = 'Classify the ticket carefully.\n';
        s.runtime = { timeoutMs: 1000, retries: 2, concurrency: 16, queue: { max: 500 } };
        s.orchestration = 'export const run = () => "v2";\n';
      }),
    );
    assert.deepEqual(d.concerns, ['prompt', 'runtime', 'orchestration']);
    assert.equal(d.classification.class, 'large');
    assert.ok(d.classification.reasons.some((r) => r.rule === 'too-many-concerns'));
    assert.match(d.classification.warnings.join('\n'), /3 concerns \(prompt, runtime, orchestration\): ship one grouped change/);
  });

  it('notes alone touch no concern', () => {
    const d = diff(base, edit(base, (s) => void (s.notes = { breaking: 'refund tool requires currency' })));
    assert.deepEqual(d.notes, [{ path: '/breaking', change: 'changed', before: 'none', after: 'refund tool requires currency' }]);
    assert.equal(d.classification.class, 'none');
    assert.equal(d.identical, false);
  });

  it('asks only for the blobs that differ, and treats missing bytes as incompatible', () => {
    const a = buildRelease(base);
    const b = buildRelease(edit(base, (s) => void ((s.memory as { required: string[] }).required = [])));
    const needed = blobsNeededForDiff(a.manifest, b.manifest);
    assert.equal(needed.length, 2);
    const d = diffReleases({ manifest: a.manifest }, { manifest: b.manifest });
    assert.equal(d.memory!.compatibility!.level, 'NONE');
    assert.match(d.memory!.compatibility!.findings[0]!.message, /cannot check compatibility: schema bytes/);
    assert.equal(diffReleases(a, b).memory!.compatibility!.level, 'BACKWARD');
  });
});
