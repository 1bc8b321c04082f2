import assert from 'node:assert/strict';
import { chmod, cp, readFile, symlink, utimes, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalize, digestOfJson, findComponent, releaseDigest, sha256 } from '@sluice/core';
import { runCli } from '../testing/cli.js';
import { collectRelease } from './build.js';
import { ReleaseStore } from './store.js';
import { fingerprint, scaffoldAgent, tempDir } from './testing.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(() => cleanup());

let n = 0;
async function agentDir(overrides: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `agent-${++n}`);
  await scaffoldAgent(dir, overrides);
  return dir;
}

describe('release build', () => {
  it('builds the init template and stores every component under its own digest', async () => {
    const dir = await agentDir();
    const store = join(root, 'store-a');
    const r = await runCli(['release', 'build', dir, '--store', store, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json<{ ref: string; digest: string; components: Array<{ kind: string; name: string; digest: string; source?: string }> }>();
    assert.equal(out.ref, 'support-agent@0.1.0');
    const resolved = await ReleaseStore.open(store).resolve(out.ref);
    assert.equal(resolved.digest, out.digest);
    assert.equal(releaseDigest(resolved.manifest), out.digest);
    assert.deepEqual(out.components.map((c) => `${c.kind}/${c.name}`), [
      'model/model', 'prompt/system', 'prompt/triage', 'tool/issue_refund', 'tool/lookup_order', 'memory/memory',
      'orchestration/orchestration', 'runtime/runtime', 'policies/policies', 'integrations/integrations', 'secrets/secrets', 'notes/notes',
    ]);
    const prompt = findComponent(resolved.manifest, 'prompt', 'system')!;
    assert.equal(prompt.digest, sha256(await readFile(join(dir, 'prompts/system.md'))));
    assert.equal(prompt.source, 'prompts/system.md');
    const refund = findComponent(resolved.manifest, 'tool', 'issue_refund')!;
    assert.deepEqual([refund.risk, refund.external, refund.tags], ['high', true, ['money']]);
    const model = findComponent(resolved.manifest, 'model')!;
    assert.equal(model.digest, digestOfJson(model.value));
    assert.deepEqual(findComponent(resolved.manifest, 'secrets')!.value, ['OPENAI_API_KEY', 'ZENDESK_TOKEN']);
    // text output: `<ref> <digest>`
    const text = await runCli(['release', 'build', dir, '--store', store]);
    assert.equal(text.stdout.split(' ').slice(0, 2).join(' '), `support-agent@0.1.0 ${out.digest}`);
  });

  it('gives the same digest for the same input anywhere, whatever the paths, times or permissions', async () => {
    const a = await agentDir();
    const b = join(root, 'elsewhere', 'deeper', 'copy');
    await cp(a, b, { recursive: true });
    const past = new Date('2001-02-03T04:05:06Z');
    await utimes(join(b, 'prompts/system.md'), past, past);
    await utimes(join(b, 'src/agent.ts'), past, past);
    await chmod(join(b, 'prompts/system.md'), 0o600);
    const x = await collectRelease(a);
    const y = await collectRelease(b);
    assert.equal(y.digest, x.digest);
    assert.equal(canonicalize(y.manifest), canonicalize(x.manifest));
    assert.doesNotMatch(new TextDecoder().decode(x.manifestBytes), new RegExp(root.replace(/[/.]/g, '\\$&')));
    // the executable bit of orchestration code is part of the tree
    await chmod(join(b, 'src/agent.ts'), 0o755);
    assert.notEqual((await collectRelease(b)).digest, x.digest);
  });

  it('is idempotent: rebuilding identical input leaves the store byte-for-byte the same', async () => {
    const dir = await agentDir();
    const store = join(root, 'store-idem');
    assert.equal((await runCli(['release', 'build', dir, '--store', store])).code, 0);
    const before = await fingerprint(store);
    const again = await runCli(['release', 'build', dir, '--store', store]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /unchanged/);
    assert.equal(await fingerprint(store), before);
  });

  it('refuses a changed release under an existing version, leaving the store alone', async () => {
    const dir = await agentDir();
    const store = join(root, 'store-immutable');
    assert.equal((await runCli(['release', 'build', dir, '--store', store])).code, 0);
    const before = await fingerprint(store);
    await writeFile(join(dir, 'prompts/triage.md'), 'Classify differently.\n');
    const r = await runCli(['release', 'build', dir, '--store', store]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /support-agent@0\.1\.0 already exists as sha256:[0-9a-f]{64}; releases are immutable/);
    assert.equal(await fingerprint(store), before);
  });

  it('writes nothing with --dry-run', async () => {
    const dir = await agentDir();
    const store = join(root, 'store-dry');
    const r = await runCli(['release', 'build', dir, '--store', store, '--dry-run', '--json']);
    assert.equal(r.code, 0);
    assert.equal(r.json<{ digest: string }>().digest, (await collectRelease(dir)).digest);
    assert.equal(await fingerprint(store), 'absent');
  });
});

describe('release build rejects bad input before writing anything', () => {
  let store: string;
  before(async () => {
    store = join(root, 'store-bad');
    assert.equal((await runCli(['release', 'build', await agentDir(), '--store', store])).code, 0);
  });

  async function expectRejected(dir: string, pattern: RegExp): Promise<string> {
    const snapshot = await fingerprint(store);
    const r = await runCli(['release', 'build', dir, '--store', store]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(await fingerprint(store), snapshot, 'the store changed');
    const j = await runCli(['release', 'build', dir, '--store', store, '--json']);
    assert.equal(j.code, 2);
    assert.equal(j.json<{ error: { kind: string } }>().error.kind, 'invalid');
    return r.stderr;
  }

  it('malformed YAML, with line and column', async () => {
    const dir = await agentDir({ 'agent.yaml': 'agent: support-agent\nversion: 1.0.0\nmodel: {provider: openai, name: x\nprompts: {}\n' });
    await expectRejected(dir, /agent\.yaml:\d+:\d+: malformed YAML/);
  });

  it('a duplicate key in YAML', async () => {
    const dir = await agentDir({ 'agent.yaml': 'agent: a\nagent: b\nversion: 1.0.0\nmodel: {provider: p, name: m}\n' });
    await expectRejected(dir, /agent\.yaml:2:1: malformed YAML: .*[Mm]ap keys must be unique/);
  });

  it('a missing prompt file', async () => {
    const dir = await agentDir();
    await rm(join(dir, 'prompts/triage.md'));
    await expectRejected(dir, /agent\.yaml: prompts\.triage: .*prompts\/triage\.md does not exist/);
  });

  it('an invalid JSON Schema, naming the file and the path inside it', async () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { amount: { type: 'money' } } };
    const dir = await agentDir({ 'tools/issue_refund.json': JSON.stringify(schema) });
    const err = await expectRejected(dir, /tools\/issue_refund\.json: \/properties\/amount\/type: invalid JSON Schema: must be equal to one of the allowed values/);
    assert.match(err, /agent\.yaml: tools\[1\]\.schema/);
  });

  it('an invalid memory schema', async () => {
    const dir = await agentDir({ 'memory/session.schema.json': '{"type": "object", "required": "customerId"}' });
    await expectRejected(dir, /memory\/session\.schema\.json: \/required: invalid JSON Schema: must be array .*memory\.schema/);
  });

  it('malformed JSON in a schema file, with line and column', async () => {
    const dir = await agentDir({ 'tools/lookup_order.json': '{\n  "type": "object",\n  "properties": {,}\n}\n' });
    await expectRejected(dir, /tools\/lookup_order\.json:3:\d+: malformed JSON/);
  });

  it('a secret with a value, without printing the value', async () => {
    const text = (await readFile(join(await agentDir(), 'agent.yaml'), 'utf8')).replace('secrets: [OPENAI_API_KEY, ZENDESK_TOKEN]', 'secrets: [OPENAI_API_KEY, ZENDESK_TOKEN=zd-s3cr3t]');
    const dir = await agentDir({ 'agent.yaml': text });
    const err = await expectRejected(dir, /agent\.yaml: secrets\[1\]: "ZENDESK_TOKEN…" carries a value/);
    assert.doesNotMatch(err, /zd-s3cr3t/);
  });

  it('a field of the wrong shape', async () => {
    const text = (await readFile(join(await agentDir(), 'agent.yaml'), 'utf8')).replace('risk: low', 'risk: lowish');
    await expectRejected(await agentDir({ 'agent.yaml': text }), /agent\.yaml: tools\[0\]\.risk: expected one of low\|medium\|high/);
  });

  it('a file that a symlink takes outside the agent directory', async () => {
    const outside = join(root, 'outside.md');
    await writeFile(outside, 'not part of the agent');
    const dir = await agentDir();
    await rm(join(dir, 'prompts/system.md'));
    await symlink(outside, join(dir, 'prompts/system.md'));
    await expectRejected(dir, /agent\.yaml: prompts\.system: .*prompts\/system\.md resolves outside the agent directory/);
  });

  it('a symlink in the orchestration tree that escapes it', async () => {
    const dir = await agentDir();
    await symlink('../agent.yaml', join(dir, 'src/config.yaml'));
    await expectRejected(dir, /agent\.yaml: orchestration\.path: .*src\/config\.yaml is a symlink to \.\.\/agent\.yaml, outside/);
  });

  it('a missing agent.yaml is "not found" (exit 3)', async () => {
    const r = await runCli(['release', 'build', join(root, 'nowhere'), '--store', store]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /nowhere\/agent\.yaml does not exist; run `sluice init/);
  });

  it('keeps a symlink that stays inside the tree', async () => {
    const dir = await agentDir();
    await symlink('agent.ts', join(dir, 'src/index.ts'));
    const r = await collectRelease(dir);
    assert.ok(findComponent(r.manifest, 'orchestration'));
  });
});
