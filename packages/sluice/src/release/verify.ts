/**
 * `sluice release verify`: is this release intact, and signed by a key we trust?
 *
 * Integrity first (every component blob and inline value against the manifest, the manifest
 * against the release digest, the image manifest's layers against the components), then the
 * signature (the envelope must be over exactly this manifest, by a trusted key). Each failure
 * says which one it is: tampered blob, tampered manifest, missing signature, wrong key.
 */
import {
  canonicalize,
  failed,
  inlineValueMatches,

  releaseDigest,
  verifyEnvelope,
  type Digest,
  type EnvelopeVerdict,
  type ErrorDetail,
} from '@sluice/core';
import { CorruptBlobError } from '../adapters/registry/oci-layout/index.js';
import type { ReleaseStore, ResolvedRelease } from './store.js';

export type VerifyFailure = 'tampered-blob' | 'missing-blob' | 'tampered-manifest' | 'missing-signature' | 'wrong-key' | 'bad-signature';

export interface IntegrityReport {
  ref: string;
  digest: Digest;
  components: number;
}

export interface VerifyReport extends IntegrityReport {
  ok: true;
  keyid: string;
  signatures: number;
}

function fail(failure: VerifyFailure, message: string, details: ErrorDetail[] = []) {
  return failed(message, [{ where: 'failure', message: failure }, ...details]);
}

/** Check every byte of a release against its manifest; throws SluiceError 'failed' naming what was tampered with. */
export async function checkIntegrity(store: ReleaseStore, ref: string): Promise<{ release: ResolvedRelease; report: IntegrityReport }> {
  let release: ResolvedRelease;
  try {
    release = await store.resolve(ref);
  } catch (err) {
    if (err instanceof Error && /^tampered manifest/.test(err.message)) throw fail('tampered-manifest', err.message);
    if (err instanceof CorruptBlobError) throw fail('tampered-manifest', `tampered manifest: the image manifest of ${ref} was modified (${err.message})`, err.details);
    throw err;
  }
  const { manifest, manifestBytes, digest } = release;
  const name = release.ref;

  // The stored bytes hash to `digest` (the store checked); they must also be this manifest's canonical form.
  if (canonicalize(manifest) !== new TextDecoder().decode(manifestBytes) || releaseDigest(manifest) !== digest) {
    throw fail('tampered-manifest', `tampered manifest: the manifest of ${name} is not in canonical form, so it does not hash to ${digest}`);
  }
  if (manifest.agent !== release.agent || manifest.version !== release.version) {
    throw fail('tampered-manifest', `tampered manifest: ${name} is stored under ${release.tag} but its manifest says ${manifest.agent}@${manifest.version}`);
  }

  const { bytes: imageBytes } = await store.registry.getManifest(release.imageManifest.digest).catch((err: unknown) => {
    if (err instanceof CorruptBlobError) throw fail('tampered-manifest', `tampered manifest: the image manifest of ${name} was modified (${err.message})`);
    throw err;
  });
  const image = JSON.parse(new TextDecoder().decode(imageBytes)) as { layers?: Array<{ digest: string; size: number }> };
  const layers = image.layers ?? [];
  if (layers.length !== manifest.components.length || layers.some((l, i) => l.digest !== manifest.components[i]!.digest || l.size !== manifest.components[i]!.size)) {
    throw fail('tampered-manifest', `tampered manifest: the layers of ${name}'s image manifest do not match its components`);
  }

  const problems: Array<{ failure: VerifyFailure; detail: ErrorDetail }> = [];
  for (const c of manifest.components) {
    const label = `${c.kind}/${c.name}`;
    const where = c.source ? `${label} (${c.source})` : label;
    const inline = inlineValueMatches(c);
    if (!inline.ok) {
      problems.push({ failure: 'tampered-manifest', detail: { where: label, message: `tampered manifest: the inline value of ${label} hashes to ${inline.actual}, not ${c.digest}` } });
      continue;
    }
    try {
      const bytes = await store.getComponentBytes(c);
      if (bytes.byteLength !== c.size) problems.push({ failure: 'tampered-blob', detail: { where, message: `tampered blob: component ${label} is ${bytes.byteLength} bytes, the manifest says ${c.size}` } });
    } catch (err) {
      if (err instanceof CorruptBlobError) {
        problems.push({ failure: 'tampered-blob', detail: { where, message: `tampered blob: component ${label} no longer matches ${c.digest} (its bytes hash to ${err.actual})` } });
      } else if ((err as { kind?: string }).kind === 'not-found') {
        problems.push({ failure: 'missing-blob', detail: { where, message: `missing blob: component ${label} (${c.digest}) is not in ${store.registry.location}` } });
      } else throw err;
    }
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw fail(first.failure, `${first.detail.message}${more}`, problems.map((p) => p.detail));
  }
  return { release, report: { ref: name, digest, components: manifest.components.length } };
}

/** Integrity, then a signature over exactly this manifest by one of `trustedPublicKeysPem`. */
export async function verifyRelease(store: ReleaseStore, ref: string, trustedPublicKeysPem: string[]): Promise<VerifyReport> {
  const { release, report } = await checkIntegrity(store, ref);
  const sigs = await store.signatures(release.digest);
  if (sigs.length === 0) {
    throw fail('missing-signature', `missing signature: ${release.ref} (${release.digest}) has no signature in ${store.registry.location}; sign it with \`sluice release sign ${release.ref} --key <key>\``);
  }
  const verdicts: EnvelopeVerdict[] = sigs.map((s) => verifyEnvelope(s.envelope, release.digest, trustedPublicKeysPem));
  const good = verdicts.find((v) => v.ok);
  if (good) return { ...report, ok: true, keyid: good.keyid!, signatures: sigs.length };

  // Report the most telling failure: an altered signature or payload beats "someone else signed it".
  const rank = ['bad-signature', 'payload-mismatch', 'payload-type', 'malformed', 'no-signatures', 'untrusted-key'];
  const worst = [...verdicts].sort((a, b) => rank.indexOf(a.failure ?? '') - rank.indexOf(b.failure ?? ''))[0]!;
  const details = verdicts.map((v, i) => ({ where: `signature ${sigs[i]!.descriptor.digest}`, message: v.reason ?? 'invalid' }));
  switch (worst.failure) {
    case 'untrusted-key':
      throw fail('wrong-key', `wrong key: ${release.ref} is ${worst.reason}`, details);
    case 'payload-mismatch':
      throw fail('tampered-manifest', `tampered manifest: ${worst.reason}`, details);
    default:
      throw fail('bad-signature', `bad signature on ${release.ref}: ${worst.reason}`, details);
  }
}


