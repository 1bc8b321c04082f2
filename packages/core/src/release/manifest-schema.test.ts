import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalize } from '../canonical/canonical-json.js';
import { assembleManifest, valueComponent } from './components.js';
import { parseReleaseManifest } from './manifest-schema.js';

describe('parseReleaseManifest', () => {
  const good = assembleManifest('support-agent', '1.0.0', [valueComponent('model', { provider: 'p', name: 'm' }).component]);

  it('accepts a manifest and keeps unknown fields, so it still hashes the same', () => {
    const future = { ...good, futureField: { x: 1 }, components: [{ ...good.components[0]!, annotations: { a: 'b' } }] };
    assert.equal(canonicalize(parseReleaseManifest(future)), canonicalize(future));
  });

  it('names the malformed field', () => {
    assert.throws(
      () => parseReleaseManifest({ ...good, components: [{ ...good.components[0]!, digest: 'md5:x' }] }, 'manifest of a@1'),
      (e: Error & { kind?: string }) => e.kind === 'failed' && /^malformed manifest: manifest of a@1: components\[0\]\.digest: expected sha256/.test(e.message),
    );
    assert.throws(() => parseReleaseManifest({ ...good, components: undefined }), /components/);
    assert.throws(() => parseReleaseManifest({ ...good, schemaVersion: 2 }), /schemaVersion/);
  });
});
