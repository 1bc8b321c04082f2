/**
 * Releases as the control plane knows them: a built manifest plus its DSSE envelopes, stored by
 * the digest the server computes itself. A release that fails the signature policy is still
 * recorded (so `release list` shows why it is stuck), but it may not be deployed or rolled out:
 * the policy is checked again at use time, so adding a trusted key later takes effect at once.
 */
import { conflict, failed, invalid, notFound, releaseDigest, verifyEnvelope, type Digest, type ReleaseManifest } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import { appendAudit } from '../audit/chain.js';
import { ensureAgent } from './agents.js';

export interface ReleasePolicy {
  /** Refuse to serve traffic from a release without a valid signature by a trusted key. */
  requireSignature: boolean;
  /** SPKI PEM Ed25519 public keys. */
  trustedKeys: string[];
}

export const OPEN_POLICY: ReleasePolicy = { requireSignature: false, trustedKeys: [] };

export interface Verification {
  /** Whether the release may serve traffic under the policy in force. */
  ok: boolean;
  /** The trusted key that signed it, if any did. */
  keyid?: string;
  reason?: string;
}

export interface ReleaseRecord {
  digest: Digest;
  agent: string;
  version: string;
  ref: string;
  manifest: ReleaseManifest;
  envelopes: unknown[];
  verification: Verification;
  registeredAt: string;
  registeredBy: string;
}

interface ReleaseRow {
  digest: Digest;
  agent: string;
  version: string;
  manifest: ReleaseManifest;
  envelopes: unknown[];
  verification: Verification;
  registered_at: string;
  registered_by: string;
}

const fromRow = (r: ReleaseRow): ReleaseRecord => ({
  digest: r.digest,
  agent: r.agent,
  version: r.version,
  ref: `${r.agent}@${r.version}`,
  manifest: r.manifest,
  envelopes: r.envelopes,
  verification: r.verification,
  registeredAt: r.registered_at,
  registeredBy: r.registered_by,
});

/** Check a release's envelopes against the policy. */
export function checkSignature(digest: Digest, envelopes: unknown[], policy: ReleasePolicy): Verification {
  const reasons: string[] = [];
  if (policy.trustedKeys.length > 0) {
    for (const env of envelopes) {
      const v = verifyEnvelope(env, digest, policy.trustedKeys);
      if (v.ok) return { ok: true, ...(v.keyid ? { keyid: v.keyid } : {}) };
      if (v.reason) reasons.push(v.reason);
    }
  }
  if (!policy.requireSignature) return { ok: true };
  if (envelopes.length === 0) return { ok: false, reason: 'the policy requires a signature by a trusted key, and the release is not signed' };
  if (policy.trustedKeys.length === 0) return { ok: false, reason: 'the policy requires a signature, but the server trusts no keys (start it with --trusted-key)' };
  return { ok: false, reason: `no signature by a trusted key verifies: ${reasons.join('; ')}` };
}

export async function registerRelease(
  tx: Queryable,
  actor: string,
  input: { manifest: ReleaseManifest; envelopes: unknown[]; digest?: string },
  policy: ReleasePolicy,
): Promise<{ release: ReleaseRecord; created: boolean }> {
  const digest = releaseDigest(input.manifest);
  if (input.digest !== undefined && input.digest !== digest) {
    throw invalid(`the manifest hashes to ${digest}, not the claimed ${input.digest}`, [
      { where: '/digest', message: 'does not match the SHA-256 of the manifest in canonical JSON' },
    ]);
  }
  const existing = await findRelease(tx, digest);
  if (existing) return { release: existing, created: false };
  const { agent, version } = input.manifest;
  const clash = await tx.query<{ digest: string }>('SELECT digest FROM releases WHERE agent = $1 AND version = $2', [agent, version]);
  if (clash.rows[0]) {
    throw conflict(`${agent}@${version} is already registered with digest ${clash.rows[0].digest}; releases are immutable: bump the version`, [
      { where: '/manifest/version', message: 'already taken by another manifest' },
    ]);
  }
  const verification = checkSignature(digest, input.envelopes, policy);
  const at = new Date().toISOString();
  await ensureAgent(tx, agent, at);
  await tx.query(
    `INSERT INTO releases (digest, agent, version, manifest, envelopes, verified, verification, registered_at, registered_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [digest, agent, version, JSON.stringify(input.manifest), JSON.stringify(input.envelopes), verification.ok, JSON.stringify(verification), at, actor],
  );
  const release: ReleaseRecord = {
    digest,
    agent,
    version,
    ref: `${agent}@${version}`,
    manifest: input.manifest,
    envelopes: input.envelopes,
    verification,
    registeredAt: at,
    registeredBy: actor,
  };
  await appendAudit(tx, {
    actor,
    action: 'release.register',
    target: `release/${release.ref}`,
    agent,
    at,
    after: { digest, verification, signatures: input.envelopes.length },
  });
  return { release, created: true };
}

export async function findRelease(q: Queryable, digest: string): Promise<ReleaseRecord | null> {
  const r = await q.query<ReleaseRow>('SELECT * FROM releases WHERE digest = $1', [digest]);
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

/** Resolve `agent@version`, `sha256:…` or `agent@sha256:…`. */
export async function resolveRelease(q: Queryable, ref: string, where = 'release'): Promise<ReleaseRecord> {
  const at = ref.lastIndexOf('@');
  let r: ReleaseRow | undefined;
  if (ref.startsWith('sha256:')) r = (await q.query<ReleaseRow>('SELECT * FROM releases WHERE digest = $1', [ref])).rows[0];
  else if (at > 0) {
    const agent = ref.slice(0, at);
    const v = ref.slice(at + 1);
    const sql = v.startsWith('sha256:') ? 'SELECT * FROM releases WHERE agent = $1 AND digest = $2' : 'SELECT * FROM releases WHERE agent = $1 AND version = $2';
    r = (await q.query<ReleaseRow>(sql, [agent, v])).rows[0];
  } else {
    throw invalid(`${where}: expected agent@version or sha256:<digest>, got ${JSON.stringify(ref)}`, [{ where, message: 'not a release reference' }]);
  }
  if (!r) throw notFound(`no registered release ${ref} (register it with \`sluice release register ${ref}\`)`, [{ where, message: 'unknown release' }]);
  return fromRow(r);
}

export async function listReleases(q: Queryable, agent?: string): Promise<ReleaseRecord[]> {
  const r = agent
    ? await q.query<ReleaseRow>('SELECT * FROM releases WHERE agent = $1 ORDER BY registered_at, version', [agent])
    : await q.query<ReleaseRow>('SELECT * FROM releases ORDER BY agent, registered_at, version');
  return r.rows.map(fromRow);
}

/** Throw `failed` (422) naming the reason when the policy forbids this release to serve traffic. */
export function assertServable(release: ReleaseRecord, policy: ReleasePolicy, where = 'release'): Verification {
  const v = checkSignature(release.digest, release.envelopes, policy);
  if (!v.ok) {
    throw failed(`release ${release.ref} (${release.digest}) fails the signature policy: ${v.reason}`, [{ where, message: v.reason ?? 'signature policy' }]);
  }
  return v;
}
