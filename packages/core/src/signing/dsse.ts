/**
 * DSSE v1 envelopes (github.com/secure-systems-lab/dsse, protocol.md) signed with Ed25519.
 *
 * A signature is over PAE(payloadType, payload), never over the raw payload, so a signature for
 * one payload type can never be replayed as another. Sluice signs the release manifest's
 * canonical JSON bytes; the payload's SHA-256 is therefore the release digest itself.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { RELEASE_MEDIA_TYPE } from '../release/manifest.js';
import { sha256, type Digest } from '../canonical/digest.js';
import { invalid } from '../errors/errors.js';

export interface DsseSignature {
  keyid: string;
  /** Base64 of the raw signature bytes. */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/** The payload type of a signed release manifest. */
export const RELEASE_PAYLOAD_TYPE = RELEASE_MEDIA_TYPE;

/** Pre-Authentication Encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.byteLength} ${payloadType} ${payload.byteLength} `, 'utf8');
  return Buffer.concat([head, payload]);
}

/** A key's id: the SHA-256 of its SubjectPublicKeyInfo DER, as `sha256:<hex>`. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const der = key.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

export interface KeyPairPem {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
  keyid: string;
}

export function generateSigningKey(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

/** Parse a PEM public key, insisting on Ed25519; `where` names the file in errors. */
export function parsePublicKey(pem: string, where = 'public key'): KeyObject {
  return parseEd25519(pem, where, 'public', createPublicKey, 'an SPKI');
}

export function parsePrivateKey(pem: string, where = 'private key'): KeyObject {
  return parseEd25519(pem, where, 'private', createPrivateKey, 'a PKCS#8');
}

function parseEd25519(pem: string, where: string, which: string, create: (pem: string) => KeyObject, format: string): KeyObject {
  let key: KeyObject;
  try {
    key = create(pem);
  } catch (err) {
    throw invalid(`${where}: not a PEM ${which} key (${(err as Error).message})`, [{ where, message: `expected ${format} PEM ${which} key` }]);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw invalid(`${where}: expected an Ed25519 key, got ${key.asymmetricKeyType}`, [{ where, message: 'not Ed25519' }]);
  return key;
}

/** Sign `payload` into a new envelope, or add a signature to `into` (same payload). */
export function signEnvelope(payload: Uint8Array, privateKeyPem: string, payloadType: string = RELEASE_PAYLOAD_TYPE, into?: DsseEnvelope): DsseEnvelope {
  const key = parsePrivateKey(privateKeyPem);
  const keyid = keyIdOf(createPublicKey(key));
  const sig = sign(null, pae(payloadType, payload), key).toString('base64');
  const base: DsseEnvelope = into ?? { payloadType, payload: Buffer.from(payload).toString('base64'), signatures: [] };
  const signatures = [...base.signatures.filter((s) => s.keyid !== keyid), { keyid, sig }];
  return { ...base, signatures };
}

export type EnvelopeFailure = 'malformed' | 'payload-type' | 'payload-mismatch' | 'no-signatures' | 'untrusted-key' | 'bad-signature';

export interface EnvelopeVerdict {
  ok: boolean;
  /** The trusted key that signed, when ok. */
  keyid?: string;
  /** Why not, for people. */
  reason?: string;
  /** Why not, for programs. */
  failure?: EnvelopeFailure;
}

/**
 * Is `envelope` a valid signature, by one of `trustedPublicKeysPem`, over exactly the release
 * manifest whose digest is `manifestDigest`? Reusable by the control plane (e.g. at deploy).
 */
export function verifyEnvelope(envelope: unknown, manifestDigest: Digest, trustedPublicKeysPem: string[]): EnvelopeVerdict {
  const env = envelope as Partial<DsseEnvelope> | null;
  if (!env || typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) {
    return { ok: false, failure: 'malformed', reason: 'the signature envelope is not a DSSE envelope (payloadType, payload, signatures)' };
  }
  if (env.payloadType !== RELEASE_PAYLOAD_TYPE) {
    return { ok: false, failure: 'payload-type', reason: `the envelope's payloadType is ${JSON.stringify(env.payloadType)}, not ${RELEASE_PAYLOAD_TYPE}` };
  }
  const payload = Buffer.from(env.payload, 'base64');
  const payloadDigest = sha256(payload);
  if (payloadDigest !== manifestDigest) {
    return { ok: false, failure: 'payload-mismatch', reason: `the envelope signs manifest ${payloadDigest}, not this release's manifest ${manifestDigest}` };
  }
  if (env.signatures.length === 0) return { ok: false, failure: 'no-signatures', reason: 'the envelope carries no signatures' };
  const trusted = new Map(trustedPublicKeysPem.map((pem, i) => {
    const key = parsePublicKey(pem, `trusted key #${i + 1}`);
    return [keyIdOf(key), key] as const;
  }));
  const message = pae(env.payloadType, payload);
  const badByTrusted: string[] = [];
  for (const s of env.signatures) {
    if (typeof s?.sig !== 'string') continue;
    const sig = Buffer.from(s.sig, 'base64');
    const named = s.keyid ? trusted.get(s.keyid) : undefined;
    if (named) {
      if (verify(null, message, named, sig)) return { ok: true, keyid: s.keyid };
      badByTrusted.push(s.keyid);
      continue;
    }
    // DSSE's keyid is an unauthenticated hint: a signature whose keyid names no trusted key may
    // still be by one (another tool's keyid convention), so every trusted key gets a try.
    for (const [keyid, key] of trusted) if (verify(null, message, key, sig)) return { ok: true, keyid };
  }
  if (badByTrusted.length > 0) {
    return { ok: false, failure: 'bad-signature', reason: `the signature by trusted key ${badByTrusted[0]} does not verify: the envelope or its signature was altered` };
  }
  const signers = env.signatures.map((s) => s?.keyid || '(no keyid)').join(', ');
  return { ok: false, failure: 'untrusted-key', reason: `signed by ${signers}, which is not a trusted key (trusted: ${[...trusted.keys()].join(', ') || 'none'})` };
}

/** The payload bytes of an envelope. */
export function envelopePayload(envelope: DsseEnvelope): Uint8Array {
  return new Uint8Array(Buffer.from(envelope.payload, 'base64'));
}
