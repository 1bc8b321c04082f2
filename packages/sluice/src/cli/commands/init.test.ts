import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../testing/cli.js';
import { tempDir } from '../../release/testing.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('sluice-init-'));
});
after(() => cleanup());

describe('sluice init', () => {
  it('scaffolds an agent that builds as-is', async () => {
    const dir = join(root, 'a');
    const r = await runCli(['init', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const files = r.json<{ files: string[] }>().files;
    for (const f of ['agent.yaml', 'prompts/system.md', 'tools/lookup_order.json', 'tools/issue_refund.json', 'memory/session.schema.json', 'src/agent.ts']) assert.ok(files.includes(f), f);
    const yaml = await readFile(join(dir, 'agent.yaml'), 'utf8');
    assert.match(yaml, /issue_refund.*risk: high, external: true, tags: \[money\]/);
    const b = await runCli(['release', 'build', dir, '--store', join(root, 'store')]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^support-agent@0\.1\.0 sha256:[0-9a-f]{64}\n$/);
  });

  it('refuses to overwrite agent.yaml (exit 2) unless --force', async () => {
    const dir = join(root, 'b');
    assert.equal((await runCli(['init', dir])).code, 0);
    await writeFile(join(dir, 'agent.yaml'), 'mine');
    const r = await runCli(['init', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /agent\.yaml already exists; use --force/);
    assert.equal(await readFile(join(dir, 'agent.yaml'), 'utf8'), 'mine');
    const f = await runCli(['init', dir, '--force', '--agent', 'billing-agent']);
    assert.equal(f.code, 0);
    assert.match(await readFile(join(dir, 'agent.yaml'), 'utf8'), /^agent: billing-agent$/m);
    assert.equal((await runCli(['init', join(root, 'c'), '--agent', 'Bad Name'])).code, 2);
  });

  it('lists the release verbs in help', async () => {
    const r = await runCli(['release', '--help']);
    assert.equal(r.code, 0);
    for (const verb of ['build', 'sign', 'verify']) assert.match(r.stdout, new RegExp(`\\n  ${verb} `));
    const v = await runCli(['release', 'verify', '--help']);
    assert.match(v.stdout, /tampered blob/);
  });
});
