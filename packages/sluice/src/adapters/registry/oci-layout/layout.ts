/**
 * A Registry over an OCI image layout directory (image-spec image-layout.md):
 *
 *   <dir>/oci-layout          {"imageLayoutVersion":"1.0.0"}
 *   <dir>/index.json          an image index listing every manifest; tagged ones carry
 *                             `org.opencontainers.image.ref.name`
 *   <dir>/blobs/sha256/<hex>  content, named by its digest
 *
 * Any OCI tool reads it (`skopeo copy oci:<dir>:<ref> …`). Nothing is created until the first
 * write, so reading a store that does not exist leaves the disk alone. Every write is atomic;
 * every blob read is checked against its digest.
 */
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { digestHex, failed, invalid, isDigest, notFound, sha256, SluiceError, type Digest } from '@sluice/core';
import type { Descriptor, ManifestWithBytes, Registry } from '../registry.js';
import { readIfExists, withLock, writeFileAtomic } from './files.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

// image-spec annotations.md: the grammar of org.opencontainers.image.ref.name.
const REF_NAME_RE = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

export function isValidRefName(s: string): boolean {
  return REF_NAME_RE.test(s);
}

interface ImageIndex {
  schemaVersion: 2;
  mediaType: typeof OCI_INDEX_MEDIA_TYPE;
  manifests: Descriptor[];
}

export class OciLayoutRegistry implements Registry {
  readonly location: string;

  constructor(readonly dir: string) {
    this.location = dir;
  }

  private blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    try {
      await access(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  async getBlob(digest: Digest): Promise<Uint8Array> {
    if (!isDigest(digest)) throw invalid(`not a sha256 digest: ${JSON.stringify(digest)}`);
    const bytes = await readIfExists(this.blobPath(digest));
    if (!bytes) throw notFound(`blob ${digest} is not in ${this.location}`, [{ where: this.blobPath(digest), message: 'missing' }]);
    const actual = sha256(bytes);
    if (actual !== digest) {
      throw new CorruptBlobError(digest, actual, this.blobPath(digest));
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async putBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    await this.ensureLayout();
    const path = this.blobPath(digest);
    const existing = await readIfExists(path);
    // Rewrite a damaged copy instead of trusting the name: the bytes are what we were given.
    if (!existing || sha256(existing) !== digest) await writeFileAtomic(path, bytes);
    return { mediaType, digest, size: bytes.byteLength };
  }

  async getManifest(reference: string): Promise<ManifestWithBytes> {
    const index = await this.readIndex();
    const entry = isDigest(reference)
      ? index.manifests.find((m) => m.digest === reference)
      : index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === reference);
    if (!entry && !isDigest(reference)) throw notFound(`no manifest named ${JSON.stringify(reference)} in ${this.location}`);
    const digest = (entry?.digest ?? reference) as Digest;
    const bytes = await this.getBlob(digest);
    const mediaType = entry?.mediaType ?? mediaTypeOf(bytes) ?? OCI_MANIFEST_MEDIA_TYPE;
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    const artifactType = entry?.artifactType ?? artifactTypeOf(bytes);
    if (artifactType) descriptor.artifactType = artifactType;
    if (entry?.annotations) descriptor.annotations = entry.annotations;
    return { descriptor, bytes };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    if (tag !== undefined && !isValidRefName(tag)) {
      throw invalid(`${JSON.stringify(tag)} is not a valid OCI layout ref name`, [{ where: 'tag', message: 'expected letters, digits and - . _ : @ + separators' }]);
    }
    const blob = await this.putBlob(bytes, mediaType);
    const entry: Descriptor = { mediaType, digest: blob.digest, size: blob.size };
    const artifactType = artifactTypeOf(bytes);
    if (artifactType) entry.artifactType = artifactType;
    if (tag !== undefined) entry.annotations = { [REF_NAME_ANNOTATION]: tag };
    await withLock(join(this.dir, 'index.json.lock'), async () => {
      const index = await this.readIndex();
      const next = withEntry(index.manifests, entry, tag);
      if (next !== index.manifests) await writeFileAtomic(this.indexPath, encodeIndex({ ...index, manifests: next }));
    });
    return entry;
  }

  async referrers(subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const index = await this.readIndex();
    const out: Descriptor[] = [];
    const seen = new Set<string>();
    for (const entry of index.manifests) {
      if (seen.has(entry.digest)) continue;
      seen.add(entry.digest);
      if (artifactType && entry.artifactType !== artifactType) continue;
      const bytes = await this.getBlob(entry.digest);
      const parsed = parseJson(bytes) as { subject?: { digest?: string }; annotations?: Record<string, string> } | undefined;
      if (parsed?.subject?.digest !== subject) continue;
      // As the distribution spec's referrers API does: the descriptor carries the manifest's own annotations.
      const d: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      if (entry.artifactType) d.artifactType = entry.artifactType;
      if (parsed.annotations) d.annotations = parsed.annotations;
      out.push(d);
    }
    return out;
  }

  async tags(): Promise<string[]> {
    const index = await this.readIndex();
    const names = index.manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((n): n is string => n !== undefined);
    return [...new Set(names)].sort();
  }

  /** Every manifest the index lists, tagged or not. */
  async manifests(): Promise<Descriptor[]> {
    return (await this.readIndex()).manifests;
  }

  private async ensureLayout(): Promise<void> {
    const path = join(this.dir, 'oci-layout');
    if (await readIfExists(path)) return;
    await writeFileAtomic(path, new TextEncoder().encode('{"imageLayoutVersion":"1.0.0"}'));
    if (!(await readIfExists(this.indexPath))) {
      await withLock(join(this.dir, 'index.json.lock'), async () => {
        if (!(await readIfExists(this.indexPath))) await writeFileAtomic(this.indexPath, encodeIndex(emptyIndex()));
      });
    }
  }

  private async readIndex(): Promise<ImageIndex> {
    const bytes = await readIfExists(this.indexPath);
    if (!bytes) return emptyIndex();
    const parsed = parseJson(bytes) as Partial<ImageIndex> | undefined;
    if (!parsed || !Array.isArray(parsed.manifests)) {
      throw failed(`${this.indexPath} is not an OCI image index`, [{ where: this.indexPath, message: 'expected {"schemaVersion":2,"manifests":[...]}' }]);
    }
    return { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, ...parsed, manifests: parsed.manifests } as ImageIndex;
  }
}

/** A blob whose bytes no longer hash to its name: someone or something changed it on disk. */
export class CorruptBlobError extends SluiceError {
  constructor(
    readonly digest: Digest,
    readonly actual: Digest,
    readonly path: string,
  ) {
    super('failed', `blob ${digest} is corrupt: its bytes hash to ${actual}`, [{ where: path, message: 'content does not match its digest' }]);
    this.name = 'CorruptBlobError';
  }
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests: [] };
}

function encodeIndex(index: ImageIndex): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(index, null, 2)}\n`);
}

/**
 * The index after adding `entry`. A tag moves to the new manifest; an untagged entry is only
 * added when the manifest is not listed yet. Returns the same array when nothing changes, so
 * storing the same thing twice leaves index.json byte-for-byte alone.
 */
function withEntry(manifests: Descriptor[], entry: Descriptor, tag?: string): Descriptor[] {
  if (tag === undefined) {
    return manifests.some((m) => m.digest === entry.digest) ? manifests : [...manifests, entry];
  }
  const current = manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag);
  if (current && current.digest === entry.digest) return manifests;
  const rest = manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== tag);
  // An untagged listing of the same manifest is superseded by the tagged one.
  const untaggedAt = rest.findIndex((m) => m.digest === entry.digest && !m.annotations?.[REF_NAME_ANNOTATION]);
  if (untaggedAt >= 0) return rest.map((m, i) => (i === untaggedAt ? entry : m));
  return [...rest, entry];
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

function mediaTypeOf(bytes: Uint8Array): string | undefined {
  const m = parseJson(bytes) as { mediaType?: unknown } | undefined;
  return typeof m?.mediaType === 'string' ? m.mediaType : undefined;
}

function artifactTypeOf(bytes: Uint8Array): string | undefined {
  const m = parseJson(bytes) as { artifactType?: unknown } | undefined;
  return typeof m?.artifactType === 'string' ? m.artifactType : undefined;
}
