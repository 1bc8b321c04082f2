import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sha256 } from '../canonical/digest.js';
import { envelopePayload, generateSigningKey, keyIdOf, pae, parsePublicKey, RELEASE_PAYLOAD_TYPE, signEnvelope, verifyEnvelope } from './dsse.js';
import { createHash, createPublicKey } from 'node:crypto';

const enc = (s: string) => new TextEncoder().encode(s);
const manifest = enc('{"agent":"support-agent","components":[],"mediaType":"application/vnd.sluice.release.v1+json","schemaVersion":1,"version":"1.0.0"}');

describe('DSSE v1', () => {
  it('matches the PAE test vector of the DSSE spec', () => {
    const out = pae('http://example.com/HelloWorld', enc('hello world'));
    assert.equal(new TextDecoder().decode(out), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('counts lengths in bytes, not characters', () => {
    const out = pae('t', enc('héllo'));
    assert.equal(new TextDecoder().decode(out), 'DSSEv1 1 t 6 héllo');
  });

  it('signs and verifies with Ed25519; the key id is the SHA-256 of the SPKI DER', () => {
    const key = generateSigningKey();
    const der = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
    assert.equal(key.keyid, `sha256:${createHash('sha256').update(der).digest('hex')}`);
    assert.equal(keyIdOf(key.publicKeyPem), key.keyid);
    const env = signEnvelope(manifest, key.privateKeyPem);
    assert.equal(env.payloadType, RELEASE_PAYLOAD_TYPE);
    assert.deepEqual(envelopePayload(env), manifest);
    assert.equal(env.signatures[0]!.keyid, key.keyid);
    assert.deepEqual(verifyEnvelope(env, sha256(manifest), [key.publicKeyPem]), { ok: true, keyid: key.keyid });
  });

  it('says why a signature does not count', () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const env = signEnvelope(manifest, key.privateKeyPem);
    const d = sha256(manifest);

    const wrong = verifyEnvelope(env, d, [other.publicKeyPem]);
    assert.equal(wrong.failure, 'untrusted-key');
    assert.match(wrong.reason!, new RegExp(key.keyid));

    assert.equal(verifyEnvelope(env, sha256(enc('other manifest')), [key.publicKeyPem]).failure, 'payload-mismatch');
    assert.equal(verifyEnvelope({ ...env, payloadType: 'text/plain' }, d, [key.publicKeyPem]).failure, 'payload-type');
    assert.equal(verifyEnvelope({ ...env, signatures: [] }, d, [key.publicKeyPem]).failure, 'no-signatures');
    assert.equal(verifyEnvelope({ nope: 1 }, d, [key.publicKeyPem]).failure, 'malformed');

    // A signature by the trusted key over other bytes, moved onto this payload.
    const forged = { ...env, signatures: signEnvelope(enc('x'), key.privateKeyPem).signatures };
    assert.equal(verifyEnvelope(forged, d, [key.publicKeyPem]).failure, 'bad-signature');
    // Two signers, one trusted: accepted by the trusted one.
    const both = signEnvelope(manifest, other.privateKeyPem, RELEASE_PAYLOAD_TYPE, env);
    assert.equal(both.signatures.length, 2);
    assert.equal(verifyEnvelope(both, d, [other.publicKeyPem]).keyid, other.keyid);
    // keyid is only a hint: a trusted key's signature under another tool's keyid still counts
    const hinted = { ...env, signatures: [{ keyid: 'SHA256:some-other-convention', sig: env.signatures[0]!.sig }] };
    assert.deepEqual(verifyEnvelope(hinted, d, [key.publicKeyPem]), { ok: true, keyid: key.keyid });
    const short = { ...env, signatures: [{ keyid: key.keyid, sig: 'AAAA' }] };
    assert.equal(verifyEnvelope(short, d, [key.publicKeyPem]).failure, 'bad-signature');
  });

  it('rejects any single-bit change of the signature or the payload', () => {
    const key = generateSigningKey();
    const env = signEnvelope(manifest, key.privateKeyPem);
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    fc.assert(
      fc.property(fc.nat({ max: sig.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(sig);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const tampered = { ...env, signatures: [{ keyid: key.keyid, sig: flipped.toString('base64') }] };
        assert.equal(verifyEnvelope(tampered, sha256(manifest), [key.publicKeyPem]).ok, false);
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(fc.nat({ max: manifest.length * 8 - 1 }), (bit) => {
        const body = Buffer.from(manifest);
        body[bit >> 3]! ^= 1 << (bit & 7);
        // Even when the verifier is told the tampered payload's own digest, the signature fails.
        const tampered = { ...env, payload: body.toString('base64') };
        assert.equal(verifyEnvelope(tampered, sha256(body), [key.publicKeyPem]).failure, 'bad-signature');
      }),
      { numRuns: 50 },
    );
  });

  it('refuses keys that are not Ed25519 PEM', () => {
    assert.throws(() => parsePublicKey('not a key', 'k.pub'), /k\.pub: not a PEM public key/);
  });
});
