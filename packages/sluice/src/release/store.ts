/**
 * ReleaseStore: releases as OCI artifacts in any Registry (the local layout or a remote one).
 *
 * One release is one OCI image manifest:
 *   artifactType  application/vnd.sluice.release.v1+json
 *   config        the release manifest's canonical JSON (so the config digest IS the release digest)
 *   layers        one per component, digest = the component's digest, titled `<kind>/<name>`
 *   annotations   io.sluice.agent, io.sluice.version
 * tagged `<agent>-<version>` (a valid OCI ref name: `skopeo copy oci:.sluice/store:support-agent-2.3.1 …`).
 *
 * A signature is a second manifest (artifactType application/vnd.dsse.envelope.v1+json) whose
 * `subject` is the release's image manifest and whose one layer is the DSSE envelope.
 */
import {
  canonicalBytes,
  conflict,
  failed,
  invalid,
  isDigest,
  MEDIA_TYPES,
  notFound,
  parseReleaseManifest,
  RELEASE_MEDIA_TYPE,
  sha256,
  type Component,
  type Digest,
  type DsseEnvelope,
  type ReleaseManifest,
} from '@sluice/core';
import type { Descriptor, Registry } from '../adapters/registry/registry.js';
import { CorruptBlobError, isValidRefName, OCI_MANIFEST_MEDIA_TYPE, OciLayoutRegistry } from '../adapters/registry/oci-layout/index.js';

export const RELEASE_ARTIFACT_TYPE = RELEASE_MEDIA_TYPE;
export const SIGNATURE_ARTIFACT_TYPE = MEDIA_TYPES.signature;
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';
export const AGENT_ANNOTATION = 'io.sluice.agent';
export const VERSION_ANNOTATION = 'io.sluice.version';
export const RELEASE_DIGEST_ANNOTATION = 'io.sluice.release.digest';
export const KEYIDS_ANNOTATION = 'io.sluice.keyids';
/** image-spec manifest.md: the empty descriptor, for artifacts that have no config of their own. */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
};

/** The OCI ref name (tag) a release is stored under. */
export function releaseTag(agent: string, version: string): string {
  return `${agent}-${version}`;
}

/** The human reference of a release: `support-agent@2.3.1`. */
export function releaseRef(m: Pick<ReleaseManifest, 'agent' | 'version'>): string {
  return `${m.agent}@${m.version}`;
}

export interface ReleaseSummary {
  ref: string;
  agent: string;
  version: string;
  /** The release digest (the digest of the manifest's canonical JSON). */
  digest: Digest;
  tag: string;
  imageManifest: Descriptor;
}

export interface ResolvedRelease extends ReleaseSummary {
  manifest: ReleaseManifest;
  /** The stored manifest bytes, exactly as they hash to `digest`. */
  manifestBytes: Uint8Array;
}

export interface StoredSignature {
  descriptor: Descriptor;
  envelope: DsseEnvelope;
}

interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The bytes a component's digest is over: given for file components, derived for inline values. */
export type ComponentBlobs = Map<Digest, Uint8Array>;

export class ReleaseStore {
  constructor(readonly registry: Registry) {}

  /** The store at a local OCI layout directory (created on first write). */
  static open(dir: string): ReleaseStore {
    return new ReleaseStore(new OciLayoutRegistry(dir));
  }

  /**
   * Store a release: component blobs, the manifest as config, the image manifest, the tag.
   * Everything is checked before the first write. Storing the same release again changes
   * nothing; storing a different release under an existing agent@version is a conflict.
   */
  async putRelease(manifest: ReleaseManifest, blobs: ComponentBlobs = new Map()): Promise<ResolvedRelease & { created: boolean }> {
    parseReleaseManifest(manifest);
    const manifestBytes = canonicalBytes(manifest);
    const digest = sha256(manifestBytes);
    const layers: Array<{ descriptor: Descriptor; bytes: Uint8Array }> = manifest.components.map((c) => {
      const bytes = componentBytes(c, blobs);
      return { descriptor: { mediaType: c.mediaType, digest: c.digest, size: c.size, annotations: { [TITLE_ANNOTATION]: `${c.kind}/${c.name}` } }, bytes };
    });
    const tag = releaseTag(manifest.agent, manifest.version);
    if (!isValidRefName(tag)) throw invalid(`${releaseRef(manifest)}: ${tag} is not a valid OCI ref name`, [{ where: 'version', message: 'use letters, digits and . - + in the version' }]);
    const existing = await this.summaryByTag(tag);
    if (existing && existing.digest !== digest) {
      throw conflict(`${releaseRef(manifest)} already exists as ${existing.digest}; releases are immutable, so give this one a new version`, [
        { where: 'version', message: `${manifest.version} is taken by ${existing.digest}` },
      ]);
    }
    const image: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: RELEASE_ARTIFACT_TYPE,
      config: { mediaType: RELEASE_MEDIA_TYPE, digest, size: manifestBytes.byteLength },
      layers: layers.map((l) => l.descriptor),
      annotations: { [AGENT_ANNOTATION]: manifest.agent, [VERSION_ANNOTATION]: manifest.version },
    };
    const imageBytes = canonicalBytes(image);
    const seen = new Set<string>();
    for (const l of layers) {
      if (seen.has(l.descriptor.digest)) continue;
      seen.add(l.descriptor.digest);
      await this.registry.putBlob(l.bytes, l.descriptor.mediaType);
    }
    await this.registry.putBlob(manifestBytes, RELEASE_MEDIA_TYPE);
    // The same release already stored keeps its image manifest (which may differ in annotations
    // if another tool wrote it): its signatures refer to that manifest by digest.
    const imageManifest = existing ? existing.imageManifest : await this.registry.putManifest(imageBytes, OCI_MANIFEST_MEDIA_TYPE, tag);
    return {
      ref: releaseRef(manifest),
      agent: manifest.agent,
      version: manifest.version,
      digest,
      tag,
      imageManifest: { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: imageManifest.digest, size: imageManifest.size },
      manifest,
      manifestBytes,
      created: !existing,
    };
  }

  /** Every release in the store, by agent then version. Reads image manifests only. */
  async list(): Promise<ReleaseSummary[]> {
    const out: ReleaseSummary[] = [];
    for (const tag of await this.registry.tags()) {
      const s = await this.summaryByTag(tag);
      if (s) out.push(s);
    }
    return out.sort((a, b) => (a.agent === b.agent ? compareVersions(a.version, b.version) : a.agent < b.agent ? -1 : 1));
  }

  /**
   * Find a release by `agent@version`, `agent@sha256:<hex>`, `sha256:<hex>` (the release digest;
   * an unambiguous prefix of at least 6 hex digits also works) or its tag `agent-version`.
   */
  async resolve(ref: string): Promise<ResolvedRelease> {
    return this.read(await this.find(ref));
  }

  /** The bytes a component's digest is over, checked against it. */
  async getComponentBytes(component: Pick<Component, 'digest' | 'value' | 'kind' | 'name'>): Promise<Uint8Array> {
    if (component.value !== undefined && !(await this.registry.hasBlob(component.digest))) return canonicalBytes(component.value);
    return this.registry.getBlob(component.digest);
  }

  /** Store a DSSE envelope as a referrer of the release (idempotent for the same envelope). */
  async putSignature(releaseDigest: Digest, envelope: DsseEnvelope): Promise<Descriptor> {
    const release = await this.find(releaseDigest);
    const envelopeBytes = canonicalBytes(envelope);
    const layer = await this.registry.putBlob(envelopeBytes, SIGNATURE_ARTIFACT_TYPE);
    await this.registry.putBlob(new TextEncoder().encode('{}'), EMPTY_CONFIG.mediaType);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: SIGNATURE_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers: [layer],
      subject: release.imageManifest,
      annotations: {
        [RELEASE_DIGEST_ANNOTATION]: release.digest,
        [KEYIDS_ANNOTATION]: envelope.signatures.map((s) => s.keyid).join(','),
      },
    };
    return this.registry.putManifest(canonicalBytes(manifest), OCI_MANIFEST_MEDIA_TYPE);
  }

  /** The signature envelopes stored for a release (any release ref works). */
  async signatures(ref: string): Promise<StoredSignature[]> {
    const release = await this.find(ref);
    const out: StoredSignature[] = [];
    for (const d of await this.registry.referrers(release.imageManifest.digest, SIGNATURE_ARTIFACT_TYPE)) {
      const { bytes } = await this.registry.getManifest(d.digest);
      const m = parseJson(bytes, `signature manifest ${d.digest}`) as ImageManifest;
      const layer = m.layers?.find((l) => l.mediaType === SIGNATURE_ARTIFACT_TYPE) ?? m.layers?.[0];
      if (!layer) throw failed(`signature manifest ${d.digest} has no envelope layer`);
      const envelope = parseJson(await this.registry.getBlob(layer.digest), `signature envelope ${layer.digest}`) as DsseEnvelope;
      out.push({ descriptor: d, envelope });
    }
    return out;
  }

  private async find(ref: string): Promise<ReleaseSummary> {
    const r = ref.trim();
    const at = r.lastIndexOf('@');
    if (at > 0) {
      const agent = r.slice(0, at);
      const rest = r.slice(at + 1);
      if (rest.startsWith('sha256:')) return this.byDigest(rest, agent, r);
      const s = await this.summaryByTag(releaseTag(agent, rest));
      if (!s) throw notFound(`no release ${r} in ${this.registry.location}`, [{ where: 'ref', message: await this.known() }]);
      // A ref name is only an index entry: never let an edited index hand back another release.
      if (s.agent !== agent || s.version !== rest) {
        throw failed(`tampered manifest: ${s.tag} in ${this.registry.location} points at ${s.ref}, not ${r}`, [{ where: s.tag, message: `image manifest ${s.imageManifest.digest}` }]);
      }
      return s;
    }
    if (r.startsWith('sha256:')) return this.byDigest(r, undefined, r);
    const s = await this.summaryByTag(r);
    if (!s) {
      throw notFound(`no release ${JSON.stringify(r)} in ${this.registry.location}`, [
        { where: 'ref', message: `expected agent@version, agent@sha256:<digest> or sha256:<digest>; ${await this.known()}` },
      ]);
    }
    return s;
  }

  private async byDigest(d: string, agent: string | undefined, ref: string): Promise<ReleaseSummary> {
    const hex = d.slice('sha256:'.length);
    if (!/^[a-f0-9]{6,64}$/.test(hex)) throw invalid(`${ref}: a digest is sha256: followed by 6 to 64 lowercase hex digits`, [{ where: 'ref', message: 'malformed digest' }]);
    const all = (await this.list()).filter((s) => s.digest.startsWith(d) && (agent === undefined || s.agent === agent));
    if (all.length === 0) throw notFound(`no release ${ref} in ${this.registry.location}`, [{ where: 'ref', message: await this.known() }]);
    if (all.length > 1 && !isDigest(d)) throw invalid(`${ref} is ambiguous: ${all.map((s) => `${s.ref} ${s.digest}`).join(', ')}`, [{ where: 'ref', message: 'use more digits' }]);
    return all[0]!;
  }

  private async known(): Promise<string> {
    const all = await this.list();
    return all.length === 0 ? 'the store has no releases' : `known: ${all.map((s) => s.ref).join(', ')}`;
  }

  private async summaryByTag(tag: string): Promise<ReleaseSummary | undefined> {
    let got;
    try {
      got = await this.registry.getManifest(tag);
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') return undefined;
      throw err;
    }
    const m = parseJson(got.bytes, `manifest ${tag}`) as Partial<ImageManifest>;
    if (m.artifactType !== RELEASE_ARTIFACT_TYPE && m.config?.mediaType !== RELEASE_MEDIA_TYPE) return undefined;
    const agent = m.annotations?.[AGENT_ANNOTATION];
    const version = m.annotations?.[VERSION_ANNOTATION];
    if (!agent || !version || !m.config || !isDigest(m.config.digest)) return undefined;
    return {
      ref: `${agent}@${version}`,
      agent,
      version,
      digest: m.config.digest,
      tag,
      imageManifest: { mediaType: got.descriptor.mediaType, digest: got.descriptor.digest, size: got.descriptor.size },
    };
  }

  private async read(s: ReleaseSummary): Promise<ResolvedRelease> {
    let manifestBytes: Uint8Array;
    try {
      manifestBytes = await this.registry.getBlob(s.digest);
    } catch (err) {
      if (err instanceof CorruptBlobError) {
        throw failed(`tampered manifest: the stored manifest of ${s.ref} no longer hashes to its release digest ${s.digest} (it hashes to ${err.actual})`, [
          { where: err.path, message: 'release manifest modified' },
        ]);
      }
      throw err;
    }
    const manifest = parseReleaseManifest(parseJson(manifestBytes, `release manifest ${s.digest}`), `manifest of ${s.ref}`);
    return { ...s, manifest, manifestBytes };
  }
}

function componentBytes(c: Component, blobs: ComponentBlobs): Uint8Array {
  const where = `components.${c.kind}/${c.name}`;
  const bytes = blobs.get(c.digest) ?? (c.value !== undefined ? canonicalBytes(c.value) : undefined);
  if (!bytes) throw invalid(`${where}: no bytes given for ${c.digest}`, [{ where, message: 'missing blob' }]);
  if (sha256(bytes) !== c.digest) throw invalid(`${where}: bytes hash to ${sha256(bytes)}, not ${c.digest}`, [{ where, message: 'digest mismatch' }]);
  if (bytes.byteLength !== c.size) throw invalid(`${where}: size is ${bytes.byteLength}, manifest says ${c.size}`, [{ where, message: 'size mismatch' }]);
  return bytes;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw failed(`${what} is not valid JSON`);
  }
}

/** Semver precedence (semver.org §11), enough to order a store listing. */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const [core = '', pre] = v.split('+')[0]!.split(/-(.*)/s);
    return { nums: core.split('.').map(Number), pre: pre ? pre.split('.') : [] };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length === 0 ? 0 : x.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}
