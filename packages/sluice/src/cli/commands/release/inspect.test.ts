import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../../testing/cli.js';

let store: string;
const sluice = (...args: string[]) => runCli(['--store', store, ...args]);

describe('sluice release inspect', () => {
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-inspect-'));
    store = join(dir, 'store');
    assert.equal((await runCli(['init', join(dir, 'agent')])).code, 0);
    assert.equal((await sluice('release', 'build', join(dir, 'agent'))).code, 0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists components, tool risks, inline values and signatures', async () => {
    const r = await sluice('release', 'inspect', 'support-agent@0.1.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^support-agent@0\.1\.0\n {2}digest {6}sha256:[0-9a-f]{64}$/m);
    assert.match(r.stdout, /signatures {2}none/);
    assert.match(r.stdout, /tool +issue_refund +sha256:[0-9a-f]{12} +\d+ B +risk high {2}external {2}tags money {2}tools\/issue_refund\.json/);
    assert.match(r.stdout, /model +model .* openai\/gpt-5-mini temperature=0\.2/);
    assert.match(r.stdout, /secrets .* OPENAI_API_KEY, ZENDESK_TOKEN \(names only\)/);

    const j = (await sluice('release', 'inspect', 'support-agent@0.1.0', '--json')).json<{ digest: string; components: Array<{ kind: string; digest: string }>; tools: Array<{ name: string; risk: string }>; signatures: unknown[] }>();
    assert.equal(j.components.length, 12);
    assert.deepEqual(j.tools.map((t) => [t.name, t.risk]), [['issue_refund', 'high'], ['lookup_order', 'low']]);
    assert.deepEqual(j.signatures, []);
    // The digest prefix resolves to the same release.
    const byDigest = (await sluice('release', 'inspect', j.digest.slice(0, 'sha256:'.length + 8), '--json')).json<{ digest: string }>();
    assert.equal(byDigest.digest, j.digest);
  });

  it('shows a signature once the release is signed', async () => {
    const key = join(dir, 'key');
    assert.equal((await runCli(['keygen', '--out', key])).code, 0);
    const signed = await sluice('release', 'sign', 'support-agent@0.1.0', '--key', key);
    assert.equal(signed.code, 0, signed.stderr);
    const j = (await sluice('release', 'inspect', 'support-agent@0.1.0', '--json')).json<{ signatures: Array<{ keyid: string }> }>();
    assert.equal(j.signatures.length, 1);
    assert.ok(j.signatures[0]!.keyid.length > 0);
    const text = await sluice('release', 'inspect', 'support-agent@0.1.0');
    assert.match(text.stdout, /signatures {2}1 \(key /);
  });
});
