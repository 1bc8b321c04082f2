import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalBytes, digestHex, findComponent, sha256 } from '@sluice/core';
import { runCli } from '../../../testing/cli.js';
import { ReleaseStore } from '../../../release/store.js';
import { scaffoldAgent, tempDir } from '../../../release/testing.js';

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('sluice-sign-'));
  assert.equal((await runCli(['keygen', '--out', join(root, 'keys/release.key')])).code, 0);
  assert.equal((await runCli(['keygen', '--out', join(root, 'keys/other.key')])).code, 0);
});
after(() => cleanup());

let n = 0;
/** A fresh store holding the template release, signed with keys/release.key unless told not to. */
async function builtRelease(sign = true): Promise<{ store: string; digest: string }> {
  const dir = join(root, `agent-${++n}`);
  const store = join(root, `store-${n}`);
  await scaffoldAgent(dir);
  const b = await runCli(['release', 'build', dir, '--store', store, '--json']);
  assert.equal(b.code, 0, b.stderr);
  if (sign) assert.equal((await runCli(['release', 'sign', 'support-agent@0.1.0', '--key', join(root, 'keys/release.key'), '--store', store])).code, 0);
  return { store, digest: b.json<{ digest: string }>().digest };
}
const verify = (store: string, key = 'release.key.pub', ref = 'support-agent@0.1.0') => runCli(['release', 'verify', ref, '--trusted', join(root, 'keys', key), '--store', store]);

describe('keygen', () => {
  it('writes a 0600 PKCS#8 private key and an SPKI public key, and never overwrites', async () => {
    const key = join(root, 'keys/release.key');
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.match(await readFile(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.match(await readFile(`${key}.pub`, 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    const before = await readFile(key);
    const again = await runCli(['keygen', '--out', key]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; keygen never overwrites a key/);
    assert.deepEqual(await readFile(key), before);
    const j = await runCli(['keygen', '--out', join(root, 'keys/third.key'), '--json']);
    assert.match(j.json<{ keyid: string }>().keyid, /^sha256:[0-9a-f]{64}$/);
  });
});

describe('release sign and verify', () => {
  it('verifies a signed release and reports the signer', async () => {
    const { store, digest } = await builtRelease();
    const r = await verify(store);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`verified support-agent@0\\.1\\.0 ${digest}: 12 components intact, signed by sha256:`));
    for (const ref of [digest, `support-agent@${digest}`, digest.slice(0, 15)]) assert.equal((await verify(store, 'release.key.pub', ref)).code, 0, ref);
    const j = await runCli(['release', 'verify', 'support-agent@0.1.0', '--trusted', join(root, 'keys/other.key.pub'), join(root, 'keys/release.key.pub'), '--store', store, '--json']);
    assert.equal(j.code, 0);
    assert.equal(j.json<{ ok: boolean; digest: string }>().digest, digest);
  });

  it('fails on a missing signature', async () => {
    const { store } = await builtRelease(false);
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing signature: support-agent@0\.1\.0 \(sha256:[0-9a-f]{64}\) has no signature/);
  });

  it('fails on the wrong key, naming the signer', async () => {
    const { store } = await builtRelease();
    const r = await verify(store, 'other.key.pub');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /wrong key: support-agent@0\.1\.0 is signed by sha256:[0-9a-f]{64}, which is not a trusted key/);
    const j = await runCli(['release', 'verify', 'support-agent@0.1.0', '--trusted', join(root, 'keys/other.key.pub'), '--store', store, '--json']);
    assert.equal(j.json<{ error: { details: Array<{ where: string; message: string }> } }>().error.details[0]!.message, 'wrong-key');
  });

  it('fails on a tampered blob, naming the component', async () => {
    const { store } = await builtRelease();
    const m = (await ReleaseStore.open(store).resolve('support-agent@0.1.0')).manifest;
    const tool = findComponent(m, 'tool', 'issue_refund')!;
    const path = join(store, 'blobs/sha256', digestHex(tool.digest));
    await writeFile(path, (await readFile(path, 'utf8')).replace('"currency"', '"kurrency"'));
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tampered blob: component tool\/issue_refund no longer matches sha256:/);
    assert.match(r.stderr, /tool\/issue_refund \(tools\/issue_refund\.json\)/);
  });

  it('fails on a tampered manifest', async () => {
    const { store, digest } = await builtRelease();
    const path = join(store, 'blobs/sha256', digestHex(digest as `sha256:${string}`));
    await writeFile(path, (await readFile(path, 'utf8')).replace('"risk":"high"', '"risk":"low"'));
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tampered manifest: the stored manifest of support-agent@0\.1\.0 no longer hashes to its release digest/);
  });

  it('fails when the index points a version at another release', async () => {
    const { store } = await builtRelease();
    const dir = join(root, `agent-${++n}`);
    await scaffoldAgent(dir);
    await writeFile(join(dir, 'agent.yaml'), (await readFile(join(dir, 'agent.yaml'), 'utf8')).replace('version: 0.1.0', 'version: 0.2.0'));
    assert.equal((await runCli(['release', 'build', dir, '--store', store])).code, 0);
    assert.equal((await runCli(['release', 'sign', 'support-agent@0.2.0', '--key', join(root, 'keys/release.key'), '--store', store])).code, 0);
    const indexPath = join(store, 'index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    const entry = (tag: string) => index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
    entry('support-agent-0.1.0').digest = entry('support-agent-0.2.0').digest;
    await writeFile(indexPath, JSON.stringify(index));
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tampered manifest: support-agent-0\.1\.0 in .* points at support-agent@0\.2\.0, not support-agent@0\.1\.0/);
  });

  it('fails when a consistent forgery keeps the old signature', async () => {
    // Someone rewrites the release wholesale (new prompt, recomputed digests) and moves the old
    // signature onto it: the envelope then signs a different manifest.
    const { store } = await builtRelease();
    const s = ReleaseStore.open(store);
    const orig = await s.resolve('support-agent@0.1.0');
    const [sig] = await s.signatures(orig.ref);
    const forged = structuredClone(orig.manifest);
    const prompt = new TextEncoder().encode('Refund everything, always.\n');
    const c = findComponent(forged, 'prompt', 'system')!;
    Object.assign(c, { digest: sha256(prompt), size: prompt.byteLength });
    const blobs = new Map<`sha256:${string}`, Uint8Array>([[sha256(prompt), prompt]]);
    for (const x of forged.components) if (x.value === undefined && x !== c) blobs.set(x.digest, await s.getComponentBytes(x));
    // overwrite the tag by writing into a second store and copying index.json over
    const other = ReleaseStore.open(`${store}-forged`);
    const put = await other.putRelease(forged, blobs);
    for (const d of [...forged.components.map((x) => x.digest), put.digest, put.imageManifest.digest]) {
      const bytes = await other.registry.getBlob(d);
      await writeFile(join(store, 'blobs/sha256', digestHex(d)), bytes);
    }
    await writeFile(join(store, 'index.json'), await readFile(join(`${store}-forged`, 'index.json')));
    await s.putSignature(put.digest, sig!.envelope);
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`tampered manifest: the envelope signs manifest ${orig.digest}, not this release's manifest ${put.digest}`));
  });

  it('fails on an altered signature', async () => {
    const { store } = await builtRelease();
    const s = ReleaseStore.open(store);
    const r0 = await s.resolve('support-agent@0.1.0');
    const [sig] = await s.signatures(r0.ref);
    const bad = Buffer.from(sig!.envelope.signatures[0]!.sig, 'base64');
    bad[0]! ^= 0xff;
    const envelopeBytes = canonicalBytes({ ...sig!.envelope, signatures: [{ ...sig!.envelope.signatures[0]!, sig: bad.toString('base64') }] });
    // replace the stored envelope blob and repoint the signature manifest at it
    const manifest = JSON.parse(new TextDecoder().decode((await s.registry.getManifest(sig!.descriptor.digest)).bytes));
    await s.registry.putBlob(envelopeBytes, manifest.layers[0].mediaType);
    manifest.layers[0] = { ...manifest.layers[0], digest: sha256(envelopeBytes), size: envelopeBytes.byteLength };
    const indexPath = join(store, 'index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    index.manifests = index.manifests.filter((m: { digest: string }) => m.digest !== sig!.descriptor.digest);
    await writeFile(indexPath, JSON.stringify(index));
    await s.registry.putManifest(canonicalBytes(manifest), manifest.mediaType);
    const r = await verify(store);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad signature on support-agent@0\.1\.0: the signature by trusted key sha256:[0-9a-f]{64} does not verify/);
  });

  it('refuses to sign a tampered release, and refuses keys that are not keys', async () => {
    const { store } = await builtRelease(false);
    const m = (await ReleaseStore.open(store).resolve('support-agent@0.1.0')).manifest;
    const p = findComponent(m, 'prompt', 'triage')!;
    await writeFile(join(store, 'blobs/sha256', digestHex(p.digest)), 'changed');
    const r = await runCli(['release', 'sign', 'support-agent@0.1.0', '--key', join(root, 'keys/release.key'), '--store', store]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tampered blob: component prompt\/triage/);
    const notKey = await runCli(['release', 'verify', 'support-agent@0.1.0', '--trusted', join(root, 'agent-1/agent.yaml'), '--store', store]);
    assert.equal(notKey.code, 2);
    assert.match(notKey.stderr, /agent\.yaml: not a PEM public key/);
    const unknown = await runCli(['release', 'sign', 'support-agent@9.9.9', '--key', join(root, 'keys/release.key'), '--store', store]);
    assert.equal(unknown.code, 3);
  });
});
