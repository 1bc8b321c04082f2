import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { isSluiceError, sha256, EXIT_CODES, type SluiceError } from '@sluice/core';
import { freePort, startRegistry, TEST_CREDENTIALS, type TestRegistry } from '../../../testing/registry.js';
import { DistributionRegistry, OCI_INDEX, OCI_MANIFEST, referrersTag } from './distribution.js';

const enc = (s: string) => new TextEncoder().encode(s);
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 };

function isKind(kind: SluiceError['kind'], text?: string) {
  return (e: unknown) => isSluiceError(e) && e.kind === kind && (text === undefined || e.message.includes(text));
}

describe('DistributionRegistry against docker-registry', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg.stop();
  });

  test('blobs: upload once, HEAD, GET verified; re-upload is skipped', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'blobs/test' });
    try {
      const bytes = enc('hello, registry');
      assert.equal(await r.hasBlob(sha256(bytes)), false);
      const d = await r.putBlob(bytes, 'text/plain');
      assert.deepEqual(d, { mediaType: 'text/plain', digest: sha256(bytes), size: bytes.byteLength });
      assert.equal(await r.hasBlob(d.digest), true);
      assert.deepEqual(Buffer.from(await r.getBlob(d.digest)).toString(), 'hello, registry');
      assert.deepEqual(await r.putBlob(bytes, 'text/plain'), d);
      await assert.rejects(r.getBlob(sha256('absent')), isKind('not-found'));
    } finally {
      await r.close();
    }
  });

  test('a corrupted blob in the registry fails verification (exit 1)', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'blobs/corrupt' });
    try {
      const bytes = enc('original bytes!');
      const { digest } = await r.putBlob(bytes, 'text/plain');
      const file = reg.blobFile(digest);
      const stored = await readFile(file);
      stored[0] = stored[0]! ^ 0xff;
      await writeFile(file, stored);
      await assert.rejects(r.getBlob(digest), (e: unknown) => isKind('failed', 'corrupt')(e) && EXIT_CODES[(e as SluiceError).kind] === 1);
    } finally {
      await r.close();
    }
  });

  test('manifests by tag and digest keep their exact bytes; tags list them', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'agents/manifests' });
    try {
      const config = await r.putBlob(enc('{"agent":"a"}'), 'application/vnd.sluice.release.v1+json');
      const layer = await r.putBlob(enc('# prompt\n'), 'text/markdown');
      // Deliberately not canonical (spaces): the digest must be over these exact bytes.
      const bytes = enc(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: config.mediaType, config, layers: [layer] }, null, 1),
      );
      const put = await r.putManifest(bytes, OCI_MANIFEST, '1.0.0');
      assert.equal(put.digest, sha256(bytes));
      for (const ref of ['1.0.0', put.digest]) {
        const got = await r.getManifest(ref);
        assert.deepEqual(Buffer.from(got.bytes), Buffer.from(bytes));
        assert.equal(got.descriptor.digest, put.digest);
        assert.equal(got.descriptor.mediaType, OCI_MANIFEST);
        assert.equal(got.descriptor.artifactType, config.mediaType);
      }
      assert.deepEqual(await r.tags(), ['1.0.0']);
      await assert.rejects(r.getManifest('2.0.0'), (e: unknown) => isKind('not-found', ':2.0.0')(e) && EXIT_CODES['not-found'] === 3);
    } finally {
      await r.close();
    }
  });

  test('referrers: falls back to the sha256-<hex> tag index and keeps it without duplicates', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'agents/referrers' });
    try {
      const config = await r.putBlob(enc('{"agent":"b"}'), 'application/vnd.sluice.release.v1+json');
      const subjectBytes = enc(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] }));
      const subject = await r.putManifest(subjectBytes, OCI_MANIFEST, 'v1');
      assert.deepEqual(await r.referrers(subject.digest), []);

      await r.putBlob(enc('{}'), EMPTY.mediaType);
      const sigs = [];
      for (const text of ['sig-one', 'sig-two']) {
        const env = await r.putBlob(enc(text), 'application/vnd.dsse.envelope.v1+json');
        const bytes = enc(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            artifactType: 'application/vnd.dsse.envelope.v1+json',
            config: EMPTY,
            layers: [env],
            subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
          }),
        );
        sigs.push(await r.putManifest(bytes, OCI_MANIFEST));
        await r.putManifest(bytes, OCI_MANIFEST); // again: must not be listed twice
      }
      const listed = await r.referrers(subject.digest);
      assert.deepEqual(listed.map((d) => d.digest).sort(), sigs.map((s) => s.digest).sort());
      assert.ok(listed.every((d) => d.artifactType === 'application/vnd.dsse.envelope.v1+json'));
      assert.deepEqual(await r.referrers(subject.digest, 'application/vnd.example.other'), []);
      const index = await r.getManifest(referrersTag(subject.digest));
      assert.equal(index.descriptor.mediaType, OCI_INDEX);
    } finally {
      await r.close();
    }
  });

  test('an unreachable registry is bad input (exit 2) naming the host', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const r = new DistributionRegistry({ registry: host, repository: 'x' });
    try {
      await assert.rejects(r.getManifest('v1'), (e: unknown) => isKind('invalid', host)(e) && EXIT_CODES.invalid === 2);
    } finally {
      await r.close();
    }
  });
});

describe('DistributionRegistry with Basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ htpasswd: { user: TEST_CREDENTIALS.user, bcryptHash: TEST_CREDENTIALS.bcryptHash } });
  });
  after(async () => {
    await reg.stop();
  });

  test('without credentials: unauthenticated (exit 4), naming the env vars', async () => {
    const r = new DistributionRegistry({ registry: reg.host, repository: 'private/a' });
    try {
      await assert.rejects(r.putBlob(enc('x'), 'text/plain'), (e: unknown) => {
        assert.ok(isKind('unauthenticated', reg.host)(e));
        assert.equal(EXIT_CODES.unauthenticated, 4);
        assert.ok((e as SluiceError).details.some((d) => d.message.includes('SLUICE_REGISTRY_PASSWORD')));
        return true;
      });
    } finally {
      await r.close();
    }
  });

  test('wrong password: unauthenticated, and the password is never in the message', async () => {
    const r = new DistributionRegistry(
      { registry: reg.host, repository: 'private/a' },
      { credentials: { username: TEST_CREDENTIALS.user, password: 'wrong-horse-battery' } },
    );
    try {
      await assert.rejects(r.hasBlob(sha256('x')), (e: unknown) => {
        assert.ok(isKind('unauthenticated')(e));
        assert.ok(!JSON.stringify((e as SluiceError).toJSON()).includes('wrong-horse-battery'));
        return true;
      });
    } finally {
      await r.close();
    }
  });

  test('with credentials: push and read back', async () => {
    const r = new DistributionRegistry(
      { registry: reg.host, repository: 'private/a' },
      { credentials: { username: TEST_CREDENTIALS.user, password: TEST_CREDENTIALS.password } },
    );
    try {
      const d = await r.putBlob(enc('secret stuff'), 'text/plain');
      assert.equal(Buffer.from(await r.getBlob(d.digest)).toString(), 'secret stuff');
    } finally {
      await r.close();
    }
  });
});
