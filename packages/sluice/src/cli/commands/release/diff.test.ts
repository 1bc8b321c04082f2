import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReleaseDiff } from '@sluice/core';
import { runCli } from '../../../testing/cli.js';

// Releases come from `sluice init` output with edits, built by `sluice release build`, exactly as
// a user would make them; the diff is then read back through the CLI.
let root: string;
let store: string;
let base: string;
let n = 0;

const sluice = (...args: string[]) => runCli(['--store', store, ...args]);

/** Copy the init'ed agent, apply edits, give it a fresh version, build it; returns its ref. */
async function variant(edit: (file: (path: string, change: (text: string) => string) => void) => void): Promise<string> {
  const version = `0.2.${n++}`;
  const dir = join(root, `agent-${version}`);
  cpSync(base, dir, { recursive: true });
  const file = (path: string, change: (text: string) => string) => writeFileSync(join(dir, path), change(readFileSync(join(dir, path), 'utf8')));
  file('agent.yaml', (t) => t.replace('version: 0.1.0', `version: ${version}`));
  edit(file);
  const built = await sluice('release', 'build', dir);
  assert.equal(built.code, 0, built.stderr);
  return `support-agent@${version}`;
}

const json = (edit: (v: Record<string, unknown>) => void) => (text: string) => {
  const v = JSON.parse(text) as Record<string, unknown>;
  edit(v);
  return JSON.stringify(v, null, 2);
};

async function diffJson(b: string, ...extra: string[]): Promise<ReleaseDiff & { failed: boolean }> {
  const r = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--json', ...extra);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.json();
}

describe('sluice release diff', () => {
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'sluice-diff-'));
    store = join(root, 'store');
    base = join(root, 'agent');
    assert.equal((await runCli(['init', base])).code, 0);
    const built = await sluice('release', 'build', base);
    assert.equal(built.code, 0, built.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('prompt-only change → small, with the text diff', async () => {
    const b = await variant((file) => file('prompts/triage.md', (t) => t.replace('Answer with the class only.', 'Answer with the class name only.')));
    const d = await diffJson(b);
    assert.deepEqual(d.concerns, ['prompt']);
    assert.equal(d.classification.class, 'small');
    assert.match(d.prompts[0]!.patch!, /-Answer with the class only\.\n\+Answer with the class name only\./);

    const text = await sluice('release', 'diff', 'support-agent@0.1.0', b);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^class: small \(concerns: prompt\)$/m);
    assert.match(text.stdout, /^prompts\n {2}triage: changed \(\+1 −1 lines\)\n {4}--- a\/prompts\/triage\.md$/m);
  });

  it('a tool schema that adds a required field → large, breaking', async () => {
    const b = await variant((file) =>
      file(
        'tools/lookup_order.json',
        json((s) => {
          (s.properties as Record<string, unknown>).region = { type: 'string' };
          (s.required as string[]).push('region');
        }),
      ),
    );
    const d = await diffJson(b);
    const tool = d.tools.find((t) => t.name === 'lookup_order')!;
    assert.equal(tool.breaking, true);
    assert.equal(d.classification.class, 'large');
    assert.ok(d.classification.reasons.some((r) => r.rule === 'breaking-tool' && r.message.includes('required property "region" added')));
    const text = await sluice('release', 'diff', 'support-agent@0.1.0', b);
    assert.match(text.stdout, /lookup_order: changed, schema NONE, BREAKING\n {4}not BACKWARD: required property "region" added at the root/);
  });

  it('a model parameter change → medium', async () => {
    const b = await variant((file) => file('agent.yaml', (t) => t.replace('params: {temperature: 0.2}', 'params: {temperature: 0.7}')));
    const d = await diffJson(b);
    assert.deepEqual(d.concerns, ['model']);
    assert.equal(d.classification.class, 'medium');
    assert.deepEqual(d.model!.fields, [{ path: '/params/temperature', change: 'changed', before: 0.2, after: 0.7 }]);
    assert.deepEqual(d.classification.warnings, []);
  });

  it('three concerns → large, with the "ship one grouped change" warning', async () => {
    const b = await variant((file) => {
      file('prompts/system.md', (t) => `${t}- Never share internal notes.\n`);
      file('agent.yaml', (t) => t.replace('timeoutMs: 30000', 'timeoutMs: 45000').replace('secrets: [OPENAI_API_KEY, ZENDESK_TOKEN]', 'secrets: [OPENAI_API_KEY, ZENDESK_TOKEN, STRIPE_KEY]'));
    });
    const d = await diffJson(b);
    assert.deepEqual(d.concerns, ['prompt', 'runtime', 'secrets']);
    assert.equal(d.classification.class, 'large');
    assert.deepEqual(d.secrets, { added: ['STRIPE_KEY'], removed: [] });
    const text = await sluice('release', 'diff', 'support-agent@0.1.0', b);
    assert.match(text.stdout, /^warning: this release touches 3 concerns \(prompt, runtime, secrets\): ship one grouped change/m);
  });

  it('a compatible change to a money-tagged tool → large', async () => {
    const b = await variant((file) => file('tools/issue_refund.json', json((s) => void (s.description = 'Refund an order.'))));
    const d = await diffJson(b);
    const tool = d.tools.find((t) => t.name === 'issue_refund')!;
    assert.equal(tool.breaking, false);
    assert.equal(tool.schema!.level, 'FULL');
    assert.deepEqual(tool.sensitiveTags, ['money']);
    assert.equal(d.classification.class, 'large');
    assert.ok(d.classification.reasons.some((r) => r.rule === 'sensitive-tool'));
  });

  it('exits 0 whatever the class, and 1 with --fail-on at or below the class', async () => {
    const b = await variant((file) => file('agent.yaml', (t) => t.replace('refundAboveUsd: 200', 'refundAboveUsd: 100')));
    for (const [failOn, code] of [['large', 0], ['medium', 1], ['small', 1]] as const) {
      const r = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--fail-on', failOn);
      assert.equal(r.code, code, `--fail-on ${failOn}`);
      if (code === 1) assert.match(r.stdout, /failing: class medium is at least --fail-on/);
    }
    const r = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--fail-on', 'huge');
    assert.equal(r.code, 2);
  });

  it('a policy file overrides the defaults; a bad one is refused naming file and field', async () => {
    const b = await variant((file) => file('prompts/triage.md', (t) => `${t}Be strict.\n`));
    const policy = join(root, 'policy.yaml');
    writeFileSync(policy, 'concerns: {prompt: medium}\nsensitiveTags: [money, customer-data, pii]\nmaxConcerns: 2\n');
    assert.equal((await diffJson(b, '--policy', policy)).classification.class, 'medium');

    writeFileSync(policy, 'concerns: {promt: medium}\nmaxConcerns: many\n');
    const bad = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--policy', policy);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, new RegExp(`${policy}: concerns\\.promt`));
    assert.match(bad.stderr, new RegExp(`${policy}: maxConcerns`));

    writeFileSync(policy, 'concerns: {prompt: medium\n');
    const broken = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--policy', policy);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /not valid YAML/);

    const missing = await sluice('release', 'diff', 'support-agent@0.1.0', b, '--policy', join(root, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: cannot read/);
  });

  it('a release against itself is no change; an unknown ref exits 3', async () => {
    const d = await diffJson('support-agent@0.1.0');
    assert.equal(d.identical, true);
    assert.equal(d.classification.class, 'none');
    const r = await sluice('release', 'diff', 'support-agent@0.1.0', 'support-agent@9.9.9');
    assert.equal(r.code, 3);
  });
});
