import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { digestHex, sha256 } from '@sluice/core';
import { CorruptBlobError, isValidRefName, OciLayoutRegistry } from './layout.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function layout(): Promise<OciLayoutRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-layout-'));
  dirs.push(dir);
  return new OciLayoutRegistry(join(dir, 'layout'));
}
const enc = (s: string) => new TextEncoder().encode(s);
const manifestJson = (extra: Record<string, unknown> = {}) =>
  enc(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 }, layers: [], ...extra }));

describe('OCI image layout registry', () => {
  it('creates nothing until the first write, then writes a valid layout', async () => {
    const reg = await layout();
    assert.deepEqual(await reg.tags(), []);
    await assert.rejects(reg.getManifest('x'), (e: Error & { kind?: string }) => e.kind === 'not-found');
    await assert.rejects(readdir(reg.dir), /ENOENT/);
    const d = await reg.putBlob(enc('hello'), 'text/plain');
    assert.equal(d.digest, sha256('hello'));
    assert.deepEqual(JSON.parse(await readFile(join(reg.dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await readFile(join(reg.dir, 'index.json'), 'utf8'));
    assert.equal(index.schemaVersion, 2);
    assert.deepEqual(index.manifests, []);
    assert.equal(new TextDecoder().decode(await reg.getBlob(d.digest)), 'hello');
    // no temp files or locks left behind
    assert.deepEqual((await readdir(reg.dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
  });

  it('verifies blobs on read and repairs a damaged copy on write', async () => {
    const reg = await layout();
    const d = await reg.putBlob(enc('payload'), 'text/plain');
    const path = join(reg.dir, 'blobs', 'sha256', digestHex(d.digest));
    await writeFile(path, 'pAyload');
    await assert.rejects(reg.getBlob(d.digest), (e: unknown) => e instanceof CorruptBlobError && e.kind === 'failed' && e.actual === sha256('pAyload'));
    await reg.putBlob(enc('payload'), 'text/plain');
    assert.equal(new TextDecoder().decode(await reg.getBlob(d.digest)), 'payload');
  });

  it('moves tags, keeps untagged manifests once, and finds referrers by subject', async () => {
    const reg = await layout();
    const a = await reg.putManifest(manifestJson({ annotations: { n: 'a' } }), 'application/vnd.oci.image.manifest.v1+json', 'app-1.0.0');
    const b = await reg.putManifest(manifestJson({ annotations: { n: 'b' } }), 'application/vnd.oci.image.manifest.v1+json', 'app-1.0.0');
    assert.notEqual(a.digest, b.digest);
    assert.equal((await reg.getManifest('app-1.0.0')).descriptor.digest, b.digest);
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: b.digest, size: b.size };
    const sig = manifestJson({ artifactType: 'application/x-sig', subject, annotations: { k: 'v' } });
    await reg.putManifest(sig, 'application/vnd.oci.image.manifest.v1+json');
    await reg.putManifest(sig, 'application/vnd.oci.image.manifest.v1+json');
    const index = JSON.parse(await readFile(join(reg.dir, 'index.json'), 'utf8'));
    assert.equal(index.manifests.length, 2);
    const refs = await reg.referrers(b.digest);
    assert.equal(refs.length, 1);
    assert.equal(refs[0]!.artifactType, 'application/x-sig');
    assert.deepEqual(refs[0]!.annotations, { k: 'v' });
    assert.deepEqual(await reg.referrers(b.digest, 'application/other'), []);
    assert.deepEqual(await reg.referrers(a.digest), []);
    assert.deepEqual(await reg.tags(), ['app-1.0.0']);
    // by digest too
    assert.equal((await reg.getManifest(refs[0]!.digest)).descriptor.artifactType, 'application/x-sig');
  });

  it('keeps every entry when writers race', async () => {
    const reg = await layout();
    await Promise.all(Array.from({ length: 12 }, (_, i) => reg.putManifest(manifestJson({ annotations: { i: String(i) } }), 'application/vnd.oci.image.manifest.v1+json', `t-${i}`)));
    assert.equal((await reg.tags()).length, 12);
  });

  it('keeps every entry when separate processes write one store at once', async () => {
    const reg = await layout();
    const module = fileURLToPath(new URL('./layout.ts', import.meta.url));
    // Children start writing at the same moment, so their index updates really interleave.
    const startAt = Date.now() + 2500;
    const child = (id: number) =>
      new Promise<void>((resolve, reject) => {
        const code = `
          const { OciLayoutRegistry } = await import(${JSON.stringify(module)});
          const r = new OciLayoutRegistry(${JSON.stringify(reg.dir)});
          await new Promise((r) => setTimeout(r, ${startAt} - Date.now()));
          await Promise.all(Array.from({ length: 20 }, (_, i) => r.putManifest(
            new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', annotations: { p: '${id}', i: String(i) } })),
            'application/vnd.oci.image.manifest.v1+json', 'p${id}-' + i)));`;
        const p = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`writer ${id} exited ${c}: ${err}`))));
      });
    await Promise.all([child(1), child(2), child(3)]);
    assert.equal((await reg.tags()).length, 60);
    assert.equal(JSON.parse(await readFile(join(reg.dir, 'index.json'), 'utf8')).manifests.length, 60);
  });

  it('waits for another writer\'s lock, and takes over one left by a crash', async () => {
    const reg = await layout();
    await reg.putBlob(enc('init'), 'text/plain');
    const lock = join(reg.dir, 'index.json.lock');
    await writeFile(lock, '99999');
    let done = false;
    const put = reg.putManifest(manifestJson(), 'application/vnd.oci.image.manifest.v1+json', 'held').then(() => (done = true));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(done, false, 'wrote while another process held the lock');
    await rm(lock);
    await put;
    assert.deepEqual(await reg.tags(), ['held']);

    await mkdir(reg.dir, { recursive: true });
    await writeFile(lock, '99999');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await reg.putManifest(manifestJson({ annotations: { x: '1' } }), 'application/vnd.oci.image.manifest.v1+json', 'stale');
    assert.deepEqual(await reg.tags(), ['held', 'stale']);
    await assert.rejects(readFile(lock), /ENOENT/);
  });

  it('accepts only OCI ref names as tags', () => {
    for (const ok of ['support-agent-2.3.1', 'a-1.0.0-rc.1+build.5', 'x:y', 'a--b']) assert.ok(isValidRefName(ok), ok);
    for (const bad of ['', '-a', 'a b', 'a/', 'a..b']) assert.ok(!isValidRefName(bad), bad);
  });
});
