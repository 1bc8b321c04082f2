/**
 * Push and pull: copy one release, with its signatures, from one Registry to another.
 *
 * A copy has two phases. `fetchRelease` reads everything the destination lacks from the source
 * and checks every byte against its digest; only then does `writeRelease` write, blobs first and
 * manifests last, so a failed pull never leaves a half-copied release in the store (and a
 * release is never visible by its tag before all its blobs are there). Manifests are copied as
 * their exact bytes, so the image manifest digest is the same on both sides, and so is the
 * release digest (the config blob's digest).
 */
import { conflict, failed, invalid, isDigest, RELEASE_MEDIA_TYPE, type Digest } from '@sluice/core';
import type { Descriptor, ManifestWithBytes, Registry } from '../adapters/registry/registry.js';
import { AGENT_ANNOTATION, releaseTag, SIGNATURE_ARTIFACT_TYPE, TITLE_ANNOTATION, VERSION_ANNOTATION } from './store.js';

export interface TransferEvent {
  /** `exists`: the destination already has it; `fetched`: read and verified; `stored`: written. */
  step: 'exists' | 'fetched' | 'stored';
  what: 'blob' | 'config' | 'manifest' | 'signature';
  digest: Digest;
  size: number;
  /** `prompt/system` for a component layer, when the manifest names it. */
  title?: string;
}

export interface TransferOptions {
  onProgress?: (event: TransferEvent) => void;
}

interface ImageManifestJson {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

interface FetchedManifest {
  manifest: ManifestWithBytes;
  /** Blobs to write (the destination lacks them), verified, config and layers alike. */
  blobs: Array<{ descriptor: Descriptor; bytes: Uint8Array; title?: string }>;
}

/** A release read from a source and verified, ready to be written somewhere. */
export interface ReleaseBundle extends FetchedManifest {
  agent: string;
  version: string;
  releaseDigest: Digest;
  /** Signatures and any other artifacts whose subject is the release's image manifest. */
  referrers: FetchedManifest[];
  /** Blobs the destination already had (not fetched). */
  present: number;
}

export interface TransferResult {
  agent: string;
  version: string;
  ref: string;
  releaseDigest: Digest;
  imageManifest: Descriptor;
  /** The tag written at the destination. */
  tag: string;
  blobs: { copied: number; present: number; bytes: number };
  /** Signature manifests copied (other referrers travel too, but are not listed here). */
  signatures: Digest[];
}

/** Copy a release (by tag or image-manifest digest at the source) and its referrers. */
export async function copyRelease(from: Registry, to: Registry, reference: string, options: TransferOptions & { tag?: string } = {}): Promise<TransferResult> {
  const bundle = await fetchRelease(from, reference, { ...options, destination: to });
  return writeRelease(to, bundle, options);
}

/**
 * Read a release and its referrers from `from`, verifying every blob. With `destination`, blobs
 * it already holds are not fetched.
 */
export async function fetchRelease(from: Registry, reference: string, options: TransferOptions & { destination?: Registry } = {}): Promise<ReleaseBundle> {
  const emit = options.onProgress ?? (() => undefined);
  const manifest = await from.getManifest(reference);
  const named = `${from.location}${isDigest(reference) ? '@' : ':'}${reference}`;
  const json = parseManifest(manifest.bytes, named);
  const isRelease = json.artifactType === RELEASE_MEDIA_TYPE || json.config?.mediaType === RELEASE_MEDIA_TYPE;
  if (!isRelease || !json.config || !isDigest(json.config.digest)) {
    throw invalid(`${named} is not a Sluice release`, [
      { where: named, message: `artifactType is ${JSON.stringify(json.artifactType ?? json.config?.mediaType ?? null)}, expected ${RELEASE_MEDIA_TYPE}` },
    ]);
  }
  // The config is the release manifest: always read it (it names the agent and version).
  const configBytes = await from.getBlob(json.config.digest);
  emit({ step: 'fetched', what: 'config', digest: json.config.digest, size: configBytes.byteLength });
  const release = parseJson(configBytes, `release manifest ${json.config.digest}`) as { agent?: unknown; version?: unknown };
  const agent = json.annotations?.[AGENT_ANNOTATION] ?? release.agent;
  const version = json.annotations?.[VERSION_ANNOTATION] ?? release.version;
  if (typeof agent !== 'string' || typeof version !== 'string' || agent !== release.agent || version !== release.version) {
    throw failed(`${named}: the image manifest and the release manifest disagree on agent and version`);
  }

  let present = 0;
  const fetchBlobs = async (descriptors: Descriptor[], what: TransferEvent['what'], label?: (d: Descriptor) => string) => {
    const unique = descriptors.filter((d, i) => descriptors.findIndex((x) => x.digest === d.digest) === i);
    const fetched = await mapLimit(unique, CONCURRENCY, async (d) => {
      const title = label?.(d) ?? d.annotations?.[TITLE_ANNOTATION];
      const base = { what, digest: d.digest, size: d.size, ...(title ? { title } : {}) };
      if (options.destination && (await options.destination.hasBlob(d.digest))) {
        present++;
        emit({ step: 'exists', ...base });
        return undefined;
      }
      const bytes = await from.getBlob(d.digest);
      if (bytes.byteLength !== d.size) throw failed(`blob ${d.digest} from ${from.location} has ${bytes.byteLength} bytes, the manifest says ${d.size}`);
      emit({ step: 'fetched', ...base });
      return { descriptor: d, bytes, ...(title ? { title } : {}) };
    });
    return fetched.filter((b) => b !== undefined);
  };

  const blobs = await fetchBlobs(json.layers ?? [], 'blob');
  if (!options.destination || !(await options.destination.hasBlob(json.config.digest))) {
    blobs.push({ descriptor: json.config, bytes: configBytes });
  } else {
    present++;
    emit({ step: 'exists', what: 'config', digest: json.config.digest, size: json.config.size });
  }

  const referrers: FetchedManifest[] = [];
  for (const d of await from.referrers(manifest.descriptor.digest)) {
    const ref = await from.getManifest(d.digest);
    const refJson = parseManifest(ref.bytes, `${from.location} referrer ${d.digest}`);
    if (refJson.subject?.digest !== manifest.descriptor.digest) continue;
    const isSignature = d.artifactType === SIGNATURE_ARTIFACT_TYPE;
    const label = (b: Descriptor) => `${isSignature ? 'signature' : 'referrer'} ${b === refJson.config ? 'config' : 'layer'}`;
    const refBlobs = await fetchBlobs([...(refJson.config ? [refJson.config] : []), ...(refJson.layers ?? [])], 'blob', label);
    emit({ step: 'fetched', what: isSignature ? 'signature' : 'manifest', digest: d.digest, size: ref.bytes.byteLength });
    referrers.push({ manifest: ref, blobs: refBlobs });
  }

  return { agent, version, releaseDigest: json.config.digest, manifest, blobs, referrers, present };
}

/**
 * Write a fetched release: its blobs, then the image manifest under `tag` (default
 * `<agent>-<version>`, the local store's naming), then its referrers.
 */
export async function writeRelease(to: Registry, bundle: ReleaseBundle, options: TransferOptions & { tag?: string } = {}): Promise<TransferResult> {
  const emit = options.onProgress ?? (() => undefined);
  const tag = options.tag ?? releaseTag(bundle.agent, bundle.version);
  await refuseToReplace(to, tag, bundle);

  let bytes = 0;
  let copied = 0;
  const writeBlobs = async (blobs: FetchedManifest['blobs']) => {
    await mapLimit(blobs, CONCURRENCY, async ({ descriptor, bytes: b, title }) => {
      await to.putBlob(b, descriptor.mediaType);
      copied++;
      bytes += b.byteLength;
      emit({ step: 'stored', what: descriptor.digest === bundle.releaseDigest ? 'config' : 'blob', digest: descriptor.digest, size: b.byteLength, ...(title ? { title } : {}) });
    });
  };

  await writeBlobs(bundle.blobs);
  const m = bundle.manifest;
  const imageManifest = await to.putManifest(m.bytes, m.descriptor.mediaType, tag);
  if (imageManifest.digest !== m.descriptor.digest) {
    throw failed(`${to.location} stored the image manifest as ${imageManifest.digest}, not ${m.descriptor.digest}`);
  }
  emit({ step: 'stored', what: 'manifest', digest: imageManifest.digest, size: imageManifest.size });

  const signatures: Digest[] = [];
  for (const r of bundle.referrers) {
    await writeBlobs(r.blobs);
    const d = await to.putManifest(r.manifest.bytes, r.manifest.descriptor.mediaType);
    const isSignature = r.manifest.descriptor.artifactType === SIGNATURE_ARTIFACT_TYPE;
    emit({ step: 'stored', what: isSignature ? 'signature' : 'manifest', digest: d.digest, size: d.size });
    if (isSignature) signatures.push(d.digest);
  }

  return {
    agent: bundle.agent,
    version: bundle.version,
    ref: `${bundle.agent}@${bundle.version}`,
    releaseDigest: bundle.releaseDigest,
    imageManifest: { mediaType: m.descriptor.mediaType, digest: imageManifest.digest, size: imageManifest.size },
    tag,
    blobs: { copied, present: bundle.present, bytes },
    signatures,
  };
}

/** Releases are immutable: a tag that names a different release is not moved silently. */
async function refuseToReplace(to: Registry, tag: string, bundle: ReleaseBundle): Promise<void> {
  let existing: ManifestWithBytes;
  try {
    existing = await to.getManifest(tag);
  } catch (err) {
    if ((err as { kind?: string }).kind === 'not-found') return;
    throw err;
  }
  if (existing.descriptor.digest === bundle.manifest.descriptor.digest) return;
  const json = parseManifest(existing.bytes, `${to.location} ${tag}`);
  if (json.config?.digest === bundle.releaseDigest) return;
  throw conflict(`${to.location} already has ${tag} as a different release (${json.config?.digest ?? existing.descriptor.digest}); releases are immutable`, [
    { where: `${to.location}:${tag}`, message: `holds ${existing.descriptor.digest}, not ${bundle.manifest.descriptor.digest}` },
  ]);
}

/** Blobs in flight at once: registries answer each request slowly, not the bytes. */
const CONCURRENCY = 4;

/** `Promise.all(items.map(fn))` with at most `limit` running; results in input order; the first failure wins. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function parseManifest(bytes: Uint8Array, where: string): ImageManifestJson {
  const json = parseJson(bytes, where);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw failed(`${where} is not a JSON manifest`);
  return json as ImageManifestJson;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw failed(`${what} is not valid JSON`);
  }
}
