import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRelativePath, validateAgentSource } from './source.js';
import type { SluiceError } from '../errors/errors.js';

const base = { agent: 'support-agent', version: '2.3.1', model: { provider: 'openai', name: 'gpt-5-mini' } };

function problem(data: unknown): SluiceError {
  try {
    validateAgentSource(data);
  } catch (err) {
    return err as SluiceError;
  }
  assert.fail('expected a validation error');
}

describe('agent.yaml validation', () => {
  it('accepts the documented example and normalizes paths', () => {
    const src = validateAgentSource({
      ...base,
      model: { ...base.model, params: { temperature: 0.2 } },
      prompts: { system: './prompts/system.md', triage: 'prompts//triage.md' },
      tools: [
        { name: 'lookup_order', schema: 'tools/lookup_order.json', risk: 'low' },
        { name: 'issue_refund', schema: 'tools/issue_refund.json', risk: 'high', external: true, tags: ['money'] },
      ],
      memory: { schema: 'memory/session.schema.json' },
      orchestration: { image: `ghcr.io/acme/support@sha256:${'a'.repeat(64)}` },
      runtime: { timeoutMs: 30000, retries: 2, concurrency: 16, queue: { max: 500 } },
      policies: { escalation: { confidenceBelow: 0.4 }, approvals: { refundAboveUsd: 200 } },
      integrations: [{ name: 'zendesk', scopes: ['tickets.write'] }],
      secrets: ['ZENDESK_TOKEN', 'OPENAI_API_KEY'],
      notes: { breaking: 'refund tool requires currency' },
    });
    assert.deepEqual(src.prompts, { system: 'prompts/system.md', triage: 'prompts/triage.md' });
    assert.equal(src.tools?.[1]?.external, true);
  });

  it('names the file and the field path', () => {
    const e = problem({ ...base, tools: [{ name: 'a', schema: 'a.json', risk: 'low' }, { name: 'b', schema: 'b.json', risk: 'extreme' }] });
    assert.equal(e.kind, 'invalid');
    assert.equal(e.message, 'agent.yaml: tools[1].risk: expected one of low|medium|high');
    assert.deepEqual(e.details, [{ where: 'agent.yaml: tools[1].risk', message: 'expected one of low|medium|high' }]);
  });

  it('rejects secrets that carry values, without echoing the value', () => {
    for (const [secret, field] of [['ZENDESK_TOKEN=abc123', 'secrets[1]'], ['OPENAI_API_KEY sk-abc123', 'secrets[1]'], ['zendesk_token', 'secrets[1]']] as const) {
      const e = problem({ ...base, secrets: ['OK_NAME', secret] });
      assert.match(e.message, new RegExp(`^agent\\.yaml: ${field.replace(/[[\]]/g, '\\$&')}: `));
      assert.doesNotMatch(e.message, /abc123|sk-/);
    }
    const mapping = problem({ ...base, secrets: [{ ZENDESK_TOKEN: 'abc123' }] });
    assert.match(mapping.message, /secrets\[0\]: expected a secret name only/);
    assert.doesNotMatch(mapping.message, /abc123/);
  });

  it('reports every problem at once, and unknown fields', () => {
    const e = problem({ ...base, version: 2.3, frob: 1, tools: [{ name: 'a', schema: '/etc/passwd', risk: 'low' }, { name: 'a', schema: 'b.json', risk: 'low' }] });
    const wheres = e.details.map((d) => d.where);
    assert.ok(wheres.includes('agent.yaml: version'));
    assert.ok(wheres.includes('agent.yaml: tools[0].schema'));
    assert.ok(e.details.some((d) => d.where === 'agent.yaml' && /unknown field frob/.test(d.message)));
    assert.match(e.message, /more problem/);
  });

  it('finds duplicate tool names once the shape is right', () => {
    const e = problem({ ...base, tools: [{ name: 'a', schema: 'a.json', risk: 'low' }, { name: 'a', schema: 'b.json', risk: 'low' }] });
    assert.equal(e.details[0]!.where, 'agent.yaml: tools[1]');
    assert.match(e.message, /duplicate tool a/);
  });

  it('insists on digest-pinned images and semver versions', () => {
    assert.match(problem({ ...base, orchestration: { image: 'ghcr.io/acme/support:latest' } }).message, /orchestration\.image: expected an image pinned by digest/);
    assert.match(problem({ ...base, version: '2.3' }).message, /version: expected a semver version/);
    assert.match(problem({ ...base, agent: 'Support Agent' }).message, /^agent\.yaml: agent: /);
  });

  it('keeps referenced paths inside the agent directory', () => {
    assert.equal(checkRelativePath('prompts/system.md'), undefined);
    assert.equal(checkRelativePath('a/../b.md'), undefined);
    assert.match(checkRelativePath('../x.md')!, /leaves/);
    assert.match(checkRelativePath('a/../../x.md')!, /leaves/);
    assert.match(checkRelativePath('/etc/passwd')!, /relative/);
    assert.match(checkRelativePath('C:/x')!, /relative/);
    assert.match(checkRelativePath('a\\b')!, /separator/);
    assert.match(checkRelativePath('.')!, /below/);
  });
});
