import { createHash } from 'node:crypto';
import { invalid } from '../errors/errors.js';
import { canonicalBytes } from './canonical-json.js';

/** An OCI-style content digest. Sluice only produces and accepts SHA-256. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Digest of a JSON value in RFC 8785 canonical form: the same value gives the same digest anywhere. */
export function digestOfJson(value: unknown): Digest {
  return sha256(canonicalBytes(value));
}

export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

export function parseDigest(s: string, where = 'digest'): Digest {
  if (!isDigest(s)) throw invalid(`${where}: expected sha256:<64 hex digits>, got ${JSON.stringify(s)}`, [{ where, message: 'not a sha256 digest' }]);
  return s;
}

export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

/** A short form for humans: sha256:0123456789ab. */
export function shortDigest(d: Digest): string {
  return d.slice(0, 'sha256:'.length + 12);
}
