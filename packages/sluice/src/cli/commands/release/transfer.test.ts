/**
 * push / pull end to end against a real registry (docker-registry 2.8 on loopback), checked
 * with an independent client (skopeo).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_TYPES, RELEASE_MEDIA_TYPE, sha256 } from '@sluice/core';
import { runCli } from '../../../testing/cli.js';
import { freePort, skopeo, startRegistry, TEST_CREDENTIALS, type TestRegistry } from '../../../testing/registry.js';
import { ReleaseStore } from '../../../release/store.js';
import { DistributionRegistry } from '../../../adapters/registry/distribution/index.js';

interface TransferJson {
  ref: string;
  tag: string;
  manifestDigest: string;
  releaseDigest: string;
  blobs: { copied: number; present: number; bytes: number };
  signatures: string[];
}

let work: string;
let reg: TestRegistry;
let keyFile: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-transfer-'));
  reg = await startRegistry();
  keyFile = join(work, 'release.key');
  const keygen = await runCli(['keygen', '--out', keyFile]);
  assert.equal(keygen.code, 0, keygen.stderr);
});
after(async () => {
  await reg.stop();
  await rm(work, { recursive: true, force: true });
});

async function cli(args: string[], env?: Record<string, string | undefined>) {
  const run = await runCli(args, env);
  assert.equal(run.code, 0, `sluice ${args.join(' ')}: ${run.stdout}${run.stderr}`);
  return run;
}

/** `sluice init`, set version and system prompt, `release build` into `store`, `release sign`. */
let agents = 0;
async function signedRelease(store: string, version: string, prompt: string) {
  const dir = join(work, `agent-${++agents}`);
  await cli(['init', dir]);
  const yaml = await readFile(join(dir, 'agent.yaml'), 'utf8');
  await writeFile(join(dir, 'agent.yaml'), yaml.replace(/^version: .*$/m, `version: ${version}`));
  await writeFile(join(dir, 'prompts', 'system.md'), prompt);
  await cli(['--store', store, 'release', 'build', dir]);
  await cli(['--store', store, 'release', 'sign', `support-agent@${version}`, '--key', keyFile]);
  return ReleaseStore.open(store).resolve(`support-agent@${version}`);
}

/** `sluice release verify` in `store` with our public key. */
function verify(store: string, ref: string) {
  return runCli(['--store', store, 'release', 'verify', ref, '--trusted', `${keyFile}.pub`]);
}

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(`${p} ${sha256(await readFile(p))}`);
    }
  };
  await walk(dir);
  return out.sort();
}

describe('sluice release push / pull', () => {
  let src: string;
  let put: Awaited<ReturnType<typeof signedRelease>>;
  let pushed: TransferJson;

  before(async () => {
    src = join(work, 'src-store');
    put = await signedRelease(src, '2.3.1', 'You are a careful support agent.\n');
  });

  test('push: the registry holds an OCI artifact skopeo reads as the release', async () => {
    const target = `${reg.host}/agents/support:2.3.1`;
    const run = await runCli(['--json', '--store', src, 'release', 'push', 'support-agent@2.3.1', target]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stderr, '', 'no progress lines under --json');
    pushed = run.json<TransferJson>();
    assert.equal(pushed.manifestDigest, put.imageManifest.digest);
    assert.equal(pushed.releaseDigest, put.digest);
    assert.equal(pushed.signatures.length, 1);
    assert.equal(pushed.blobs.present, 0);

    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${target}`]);
    assert.equal(sha256(raw), put.imageManifest.digest, 'skopeo sees the exact manifest bytes');
    const m = JSON.parse(raw);
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.artifactType, RELEASE_MEDIA_TYPE);
    assert.equal(m.config.mediaType, RELEASE_MEDIA_TYPE);
    assert.equal(m.config.digest, put.digest);
    assert.deepEqual(m.layers.map((l: { digest: string }) => l.digest), put.manifest.components.map((c) => c.digest));

    // docker-registry 2.8 has no referrers API: the signature is listed under the fallback tag.
    const index = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/agents/support:${put.imageManifest.digest.replace(':', '-')}`]));
    assert.deepEqual(index.manifests.map((d: { digest: string }) => d.digest), pushed.signatures);
    assert.equal(index.manifests[0].artifactType, MEDIA_TYPES.signature);
  });

  test('push again: idempotent, nothing uploaded, still one signature', async () => {
    const run = await runCli(['--store', src, 'release', 'push', 'support-agent@2.3.1', `${reg.host}/agents/support:2.3.1`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /blobs {7}0 copied \(0 B\), \d+ already there/);
    assert.match(run.stderr, /^exists {3}blob/m, 'progress lines for people on stderr');
    assert.ok(!/^pushed +(blob|config)/m.test(run.stderr), run.stderr);
    assert.match(run.stderr, /^exists +config/m);
    const index = JSON.parse(await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/agents/support:${put.imageManifest.digest.replace(':', '-')}`]));
    assert.equal(index.manifests.length, 1);
  });

  test('pull into a fresh store: same digests, and the signature verifies there', async () => {
    const fresh = join(work, 'fresh-store');
    const run = await runCli(['--json', '--store', fresh, 'release', 'pull', `${reg.host}/agents/support:2.3.1`]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const pulled = run.json<TransferJson>();
    assert.equal(pulled.manifestDigest, put.imageManifest.digest);
    assert.equal(pulled.releaseDigest, put.digest);
    assert.equal(pulled.signatures.length, 1);
    const resolved = await ReleaseStore.open(fresh).resolve('support-agent@2.3.1');
    assert.deepEqual(resolved.manifest, put.manifest);
    const verified = await verify(fresh, 'support-agent@2.3.1');
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^verified support-agent@2\.3\.1/);

    // By digest too, into a store that already has it: nothing to fetch.
    const again = await runCli(['--json', '--store', fresh, 'release', 'pull', `${reg.host}/agents/support@${put.imageManifest.digest}`]);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.json<TransferJson>().blobs.copied, 0);
  });

  test('skopeo round trip: registry → OCI layout → registry keeps the digest, and sluice pulls it', async () => {
    const layout = join(work, 'skopeo-layout');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/agents/support:2.3.1`, `oci:${layout}:copied`]);
    await skopeo(['copy', '--dest-tls-verify=false', `oci:${layout}:copied`, `docker://${reg.host}/agents/roundtrip:via-skopeo`]);
    const store = join(work, 'roundtrip-store');
    const run = await runCli(['--json', '--store', store, 'release', 'pull', `${reg.host}/agents/roundtrip:via-skopeo`]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const pulled = run.json<TransferJson>();
    assert.equal(pulled.manifestDigest, put.imageManifest.digest);
    assert.equal(pulled.releaseDigest, put.digest);
    assert.deepEqual((await ReleaseStore.open(store).resolve('support-agent@2.3.1')).manifest, put.manifest);
  });

  test('a tampered blob in the registry fails the pull (exit 1) and leaves the store untouched', async () => {
    const other = await signedRelease(join(work, 'src-store-2'), '2.4.0', 'Tamper with me.\n');
    const target = `${reg.host}/agents/tampered:2.4.0`;
    const push = await runCli(['--store', join(work, 'src-store-2'), 'release', 'push', 'support-agent@2.4.0', target]);
    assert.equal(push.code, 0, push.stderr);
    const prompt = other.manifest.components.find((c) => c.kind === 'prompt' && c.name === 'system')!;
    const file = reg.blobFile(prompt.digest);
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 0x20;
    await writeFile(file, bytes);

    const store = join(work, 'fresh-store'); // already holds 2.3.1
    const before = await snapshot(store);
    assert.ok(before.length > 0);
    const run = await runCli(['--store', store, 'release', 'pull', target]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, new RegExp(`blob ${prompt.digest} from ${reg.host}/agents/tampered is corrupt`));
    assert.deepEqual(await snapshot(store), before);

    const empty = join(work, 'never-created');
    assert.equal((await runCli(['--store', empty, 'release', 'pull', target])).code, 1);
    await assert.rejects(stat(empty), 'a failed pull into a new store creates nothing');
  });

  test('an unknown registry is bad input (exit 2) naming it; a missing tag is not found (exit 3)', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const pull = await runCli(['--store', join(work, 'x'), 'release', 'pull', `${closed}/agents/support:2.3.1`]);
    assert.equal(pull.code, 2, pull.stderr);
    assert.match(pull.stderr, new RegExp(`unknown or unreachable registry ${closed}`));
    const push = await runCli(['--json', '--store', src, 'release', 'push', 'support-agent@2.3.1', `${closed}/agents/support`]);
    assert.equal(push.code, 2);
    assert.equal(push.json<{ error: { kind: string } }>().error.kind, 'invalid');

    const missing = await runCli(['--store', join(work, 'x'), 'release', 'pull', `${reg.host}/agents/support:9.9.9`]);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /agents\/support:9\.9\.9/);

    const noHost = await runCli(['--store', src, 'release', 'push', 'support-agent@2.3.1', 'agents/support:1']);
    assert.equal(noHost.code, 2);
    assert.match(noHost.stderr, /target: "agents\/support:1" is not a registry reference/);
    await assert.rejects(stat(join(work, 'x')));
  });

  test('pulling something that is not a Sluice release is bad input (exit 2), naming the artifactType', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'images/plain' });
    try {
      const config = await r.putBlob(new TextEncoder().encode('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'), 'application/vnd.oci.image.config.v1+json');
      await r.putManifest(new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [] })), 'application/vnd.oci.image.manifest.v1+json', 'latest');
    } finally {
      await r.close();
    }
    const store = join(work, 'not-a-release');
    const run = await runCli(['--store', store, 'release', 'pull', `${reg.host}/images/plain:latest`]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /is not a Sluice release/);
    assert.match(run.stderr, /application\/vnd\.oci\.image\.config\.v1\+json/);
    await assert.rejects(stat(store));
  });

  test('a release already pushed under that tag with other content is a conflict', async () => {
    const other = join(work, 'src-store-3');
    await signedRelease(other, '2.3.1', 'A different 2.3.1.\n');
    const run = await runCli(['--store', other, 'release', 'push', 'support-agent@2.3.1', `${reg.host}/agents/support:2.3.1`]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /releases are immutable/);
  });
});

describe('push / pull with registry credentials', () => {
  let secured: TestRegistry;
  before(async () => {
    secured = await startRegistry({ htpasswd: { user: TEST_CREDENTIALS.user, bcryptHash: TEST_CREDENTIALS.bcryptHash } });
  });
  after(async () => {
    await secured.stop();
  });

  test('401 without credentials (exit 4); SLUICE_REGISTRY_USER / _PASSWORD make it work', async () => {
    const store = join(work, 'auth-store');
    await signedRelease(store, '1.0.0', 'Private agent.\n');
    const target = `${secured.host}/private/support:1.0.0`;
    const anon = await runCli(['--store', store, 'release', 'push', 'support-agent@1.0.0', target], { SLUICE_REGISTRY_USER: undefined, SLUICE_REGISTRY_PASSWORD: undefined });
    assert.equal(anon.code, 4, anon.stderr);
    assert.match(anon.stderr, /SLUICE_REGISTRY_USER/);

    const env = { SLUICE_REGISTRY_USER: TEST_CREDENTIALS.user, SLUICE_REGISTRY_PASSWORD: TEST_CREDENTIALS.password };
    const ok = await runCli(['--store', store, 'release', 'push', 'support-agent@1.0.0', target], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!(ok.stdout + ok.stderr).includes(TEST_CREDENTIALS.password));
    const pulled = await runCli(['--json', '--store', join(work, 'auth-fresh'), 'release', 'pull', target], env);
    assert.equal(pulled.code, 0, pulled.stdout);
    assert.equal((await verify(join(work, 'auth-fresh'), 'support-agent@1.0.0')).code, 0);
  });
});
