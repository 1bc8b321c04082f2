import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateSigningKey } from '@sluice/core';
import { loadPolicy } from './up.js';

describe('sluice up release policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const a = generateSigningKey();
  const b = generateSigningKey();
  writeFileSync(join(dir, 'a.pub'), a.publicKeyPem);
  writeFileSync(join(dir, 'b.pub'), b.publicKeyPem);

  it('is open without keys, and requires a signature once a key is trusted', () => {
    assert.deepEqual(loadPolicy([]), { requireSignature: false, trustedKeys: [] });
    assert.deepEqual(loadPolicy([join(dir, 'a.pub')]), { requireSignature: true, trustedKeys: [a.publicKeyPem] });
  });

  it('reads a policy file, with key paths relative to it', () => {
    writeFileSync(join(dir, 'policy.yaml'), 'trustedKeys: [b.pub]\n');
    assert.deepEqual(loadPolicy([join(dir, 'a.pub')], join(dir, 'policy.yaml')), { requireSignature: true, trustedKeys: [a.publicKeyPem, b.publicKeyPem] });
    writeFileSync(join(dir, 'audit-only.yaml'), 'requireSignature: false\ntrustedKeys: [b.pub]\n');
    assert.deepEqual(loadPolicy([], join(dir, 'audit-only.yaml')), { requireSignature: false, trustedKeys: [b.publicKeyPem] });
  });

  it('names the file when a key or the policy is wrong', () => {
    writeFileSync(join(dir, 'not-a-key.pub'), 'hello');
    assert.throws(() => loadPolicy([join(dir, 'not-a-key.pub')]), (e: Error) => e.message.includes('not-a-key.pub') && /PEM public key/.test(e.message));
    assert.throws(() => loadPolicy([join(dir, 'missing.pub')]), /cannot read trusted key .*missing\.pub/);
    writeFileSync(join(dir, 'bad.yaml'), 'requireSignature: sometimes\n');
    assert.throws(() => loadPolicy([], join(dir, 'bad.yaml')), /bad\.yaml requireSignature: expected true or false/);
  });
});
