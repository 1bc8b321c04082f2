import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { canonicalBytes, digestHex, generateSigningKey, MEDIA_TYPES, RELEASE_MEDIA_TYPE, releaseDigest, sha256, signEnvelope, type Component, type ReleaseManifest } from '@sluice/core';
import { compareVersions, ReleaseStore } from './store.js';
import { checkIntegrity } from './verify.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempStore(): Promise<{ dir: string; store: ReleaseStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-store-'));
  dirs.push(dir);
  return { dir, store: ReleaseStore.open(join(dir, 'store')) };
}

function release(version: string, systemPrompt: string): { manifest: ReleaseManifest; blobs: Map<`sha256:${string}`, Uint8Array> } {
  const prompt = new TextEncoder().encode(systemPrompt);
  const model = { provider: 'openai', name: 'gpt-5-mini' };
  const components: Component[] = [
    { kind: 'model', name: 'model', mediaType: MEDIA_TYPES.json, digest: sha256(canonicalBytes(model)), size: canonicalBytes(model).byteLength, value: model },
    { kind: 'prompt', name: 'system', mediaType: MEDIA_TYPES.prompt, digest: sha256(prompt), size: prompt.byteLength, source: 'prompts/system.md' },
  ];
  return {
    manifest: { mediaType: RELEASE_MEDIA_TYPE, schemaVersion: 1, agent: 'support-agent', version, components },
    blobs: new Map([[sha256(prompt), prompt]]),
  };
}

describe('ReleaseStore over an OCI layout', () => {
  it('stores a release whose config digest is the release digest, and resolves it every way', async () => {
    const { dir, store } = await tempStore();
    const { manifest, blobs } = release('2.3.1', 'You are helpful.');
    const put = await store.putRelease(manifest, blobs);
    assert.equal(put.digest, releaseDigest(manifest));
    assert.equal(put.ref, 'support-agent@2.3.1');
    assert.equal(put.created, true);

    const index = JSON.parse(await readFile(join(dir, 'store', 'index.json'), 'utf8'));
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'support-agent-2.3.1');
    assert.equal(index.manifests[0].artifactType, RELEASE_MEDIA_TYPE);
    const image = JSON.parse(await readFile(join(dir, 'store', 'blobs', 'sha256', digestHex(index.manifests[0].digest)), 'utf8'));
    assert.equal(image.config.digest, put.digest);
    assert.equal(image.config.mediaType, RELEASE_MEDIA_TYPE);
    assert.deepEqual(image.layers.map((l: { digest: string }) => l.digest), manifest.components.map((c) => c.digest));
    assert.deepEqual(image.layers.map((l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title']), ['model/model', 'prompt/system']);
    assert.equal(image.annotations['io.sluice.version'], '2.3.1');

    for (const ref of ['support-agent@2.3.1', put.digest, `support-agent@${put.digest}`, put.digest.slice(0, 7 + 10), 'support-agent-2.3.1']) {
      const r = await store.resolve(ref);
      assert.equal(r.digest, put.digest, ref);
      assert.deepEqual(r.manifest, manifest);
      assert.equal(r.imageManifest.digest, index.manifests[0].digest);
    }
    const prompt = manifest.components[1]!;
    assert.equal(new TextDecoder().decode(await store.getComponentBytes(prompt)), 'You are helpful.');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(await store.getComponentBytes(manifest.components[0]!))), manifest.components[0]!.value);
  });

  it('is idempotent and refuses a different release under a taken version', async () => {
    const { dir, store } = await tempStore();
    const a = release('1.0.0', 'one');
    await store.putRelease(a.manifest, a.blobs);
    const before = await readFile(join(dir, 'store', 'index.json'));
    const again = await store.putRelease(a.manifest, a.blobs);
    assert.equal(again.created, false);
    assert.deepEqual(await readFile(join(dir, 'store', 'index.json')), before);
    const b = release('1.0.0', 'two');
    await assert.rejects(store.putRelease(b.manifest, b.blobs), (e: Error & { kind?: string }) => e.kind === 'conflict' && /immutable/.test(e.message));
  });

  it('checks blobs before writing anything', async () => {
    const { dir, store } = await tempStore();
    const { manifest } = release('1.0.0', 'x');
    await assert.rejects(store.putRelease(manifest, new Map()), /prompt\/system: no bytes/);
    await assert.rejects(readFile(join(dir, 'store', 'index.json')), /ENOENT/);
  });

  it('lists releases in version order and reports unknown and ambiguous refs', async () => {
    const { store } = await tempStore();
    for (const v of ['1.10.0', '1.2.0', '1.2.0-rc.1']) {
      const r = release(v, `prompt ${v}`);
      await store.putRelease(r.manifest, r.blobs);
    }
    assert.deepEqual((await store.list()).map((s) => s.version), ['1.2.0-rc.1', '1.2.0', '1.10.0']);
    await assert.rejects(store.resolve('support-agent@9.9.9'), (e: Error & { kind?: string }) => e.kind === 'not-found' && /support-agent@9\.9\.9/.test(e.message));
    await assert.rejects(store.resolve('sha256:zz'), (e: Error & { kind?: string }) => e.kind === 'invalid');
  });

  it('keeps signatures as referrers of the release', async () => {
    const { store } = await tempStore();
    const { manifest, blobs } = release('2.0.0', 'signed');
    const put = await store.putRelease(manifest, blobs);
    assert.deepEqual(await store.signatures(put.ref), []);
    const key = generateSigningKey();
    const env = signEnvelope(put.manifestBytes, key.privateKeyPem);
    await store.putSignature(put.digest, env);
    await store.putSignature(put.digest, env); // same envelope: stored once
    const sigs = await store.signatures('support-agent@2.0.0');
    assert.equal(sigs.length, 1);
    assert.deepEqual(sigs[0]!.envelope, env);
    assert.equal(sigs[0]!.descriptor.artifactType, MEDIA_TYPES.signature);
    // storing the same release again keeps the image manifest its signatures refer to
    const again = await store.putRelease(manifest, blobs);
    assert.equal(again.imageManifest.digest, put.imageManifest.digest);
    assert.equal((await store.signatures(put.digest)).length, 1);
  });

  it('reports a tampered manifest blob', async () => {
    const { dir, store } = await tempStore();
    const { manifest, blobs } = release('3.0.0', 'p');
    const put = await store.putRelease(manifest, blobs);
    const path = join(dir, 'store', 'blobs', 'sha256', digestHex(put.digest));
    await writeFile(path, (await readFile(path, 'utf8')).replace('3.0.0', '3.0.1'));
    await assert.rejects(store.resolve('support-agent@3.0.0'), /tampered manifest/);
  });

  it('is a layout skopeo reads, and reads what skopeo writes', async () => {
    const { dir, store } = await tempStore();
    const { manifest, blobs } = release('4.0.0', 'copied by another tool');
    const put = await store.putRelease(manifest, blobs);
    const copy = join(dir, 'copy');
    await promisify(execFile)('skopeo', ['copy', '--quiet', `oci:${join(dir, 'store')}:support-agent-4.0.0`, `oci:${copy}:support-agent-4.0.0`]);
    const { release: r } = await checkIntegrity(ReleaseStore.open(copy), 'support-agent@4.0.0');
    assert.equal(r.digest, put.digest);
    assert.equal(r.imageManifest.digest, put.imageManifest.digest);
    const { stdout } = await promisify(execFile)('skopeo', ['inspect', '--raw', `oci:${join(dir, 'store')}:support-agent-4.0.0`]);
    assert.equal(JSON.parse(stdout).config.digest, put.digest);
  });

  it('orders versions by semver precedence', () => {
    assert.ok(compareVersions('1.0.0-alpha', '1.0.0-alpha.1') < 0);
    assert.ok(compareVersions('1.0.0-alpha.beta', '1.0.0-beta') < 0);
    assert.ok(compareVersions('1.0.0-beta.11', '1.0.0-rc.1') < 0);
    assert.ok(compareVersions('1.0.0-rc.1', '1.0.0') < 0);
    assert.ok(compareVersions('2.0.0', '10.0.0') < 0);
    assert.equal(compareVersions('1.0.0+a', '1.0.0+b'), 0);
  });
});
