/**
 * A Registry over any registry that speaks the OCI distribution spec (v1.1): CNCF distribution
 * (`docker-registry`), Harbor, Zot, GHCR, ECR, ACR, Artifactory…
 *
 * Referrers: registries that implement the referrers API answer `GET /v2/<name>/referrers/<d>`
 * and say so when a manifest with a `subject` is pushed (`OCI-Subject` header). For the others
 * (distribution 2.8 among them) we keep the spec's fallback ourselves: the tag
 * `sha256-<hex of subject>` points to an image index that lists the referrers.
 */
import { failed, invalid, isDigest, notFound, sha256, type Digest } from '@sluice/core';
import type { Descriptor, ManifestWithBytes, Registry } from '../registry.js';
import { RegistryHttp, type HttpOptions, type HttpResponse } from './http.js';
import { formatRemoteReference, type RemoteReference } from './reference.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

interface ManifestJson {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  subject?: Descriptor;
  annotations?: Record<string, string>;
  manifests?: Descriptor[];
}

export class DistributionRegistry implements Registry {
  readonly location: string;
  readonly registry: string;
  readonly repository: string;
  private readonly http: RegistryHttp;
  private readonly pull: string;
  private readonly push: string;
  /** Learned on first use: does this registry answer the referrers API? */
  private referrersApi: boolean | undefined;
  /**
   * What this instance learned about blobs (HEAD answers, its own uploads), so a copy that just
   * asked whether a blob is there does not ask again before uploading it. Instances are short-lived.
   */
  private readonly knownBlobs = new Map<Digest, boolean>();

  constructor(ref: Pick<RemoteReference, 'registry' | 'repository'>, options: HttpOptions = {}) {
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.location = formatRemoteReference({ registry: ref.registry, repository: ref.repository });
    this.http = new RegistryHttp(ref.registry, options);
    this.pull = `repository:${ref.repository}:pull`;
    this.push = `repository:${ref.repository}:pull,push`;
  }

  /** Close pooled connections (a CLI run ends sooner without idle sockets). */
  close(): Promise<void> {
    return this.http.close();
  }

  /** Check that the registry is there and speaks the API (exit 2 with its name if not). */
  async ping(): Promise<void> {
    await this.http.baseUrl();
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    const res = await this.http.send({ method: 'HEAD', path: this.path('blobs', digest), scope: this.pull });
    if (res.status === 200 || res.status === 404) {
      this.knownBlobs.set(digest, res.status === 200);
      return res.status === 200;
    }
    throw this.http.error(res, `check blob ${digest} in ${this.repository}`);
  }

  async getBlob(digest: Digest): Promise<Uint8Array> {
    if (!isDigest(digest)) throw invalid(`not a sha256 digest: ${JSON.stringify(digest)}`);
    const res = await this.http.send({ method: 'GET', path: this.path('blobs', digest), scope: this.pull });
    if (res.status !== 200) throw this.http.error(res, `fetch blob ${digest} from ${this.repository}`);
    const actual = sha256(res.body);
    if (actual !== digest) {
      throw failed(`blob ${digest} from ${this.location} is corrupt: its bytes hash to ${actual}`, [
        { where: `${this.location}@${digest}`, message: 'content does not match its digest' },
      ]);
    }
    return res.body;
  }

  async putBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if (this.knownBlobs.get(digest) ?? (await this.hasBlob(digest))) return descriptor;
    // Monolithic upload (distribution spec "POST then PUT"): open a session, send it all at once.
    const start = await this.http.send({ method: 'POST', path: `/v2/${this.repository}/blobs/uploads/`, scope: this.push });
    if (start.status !== 202) throw this.http.error(start, `start an upload to ${this.repository}`);
    const location = start.headers.get('location');
    if (!location) throw failed(`registry ${this.registry} started an upload without a Location header`);
    // Location may be absolute or relative to the request (both occur in the wild).
    const url = new URL(location, start.url).toString();
    // Append rather than re-serialize: the query carries the registry's opaque upload state.
    const done = await this.http.send({
      method: 'PUT',
      path: `${url}${url.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`,
      scope: this.push,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) },
      body: bytes,
    });
    if (done.status !== 201 && done.status !== 204) throw this.http.error(done, `upload blob ${digest} to ${this.repository}`);
    this.knownBlobs.set(digest, true);
    return descriptor;
  }

  async getManifest(reference: string): Promise<ManifestWithBytes> {
    const res = await this.http.send({
      method: 'GET',
      path: this.path('manifests', reference),
      scope: this.pull,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (res.status === 404) {
      throw notFound(`${this.location}${isDigest(reference) ? '@' : ':'}${reference}: no such manifest`, [
        { where: `${this.location}${isDigest(reference) ? '@' : ':'}${reference}`, message: 'not found in the registry' },
      ]);
    }
    if (res.status !== 200) throw this.http.error(res, `fetch manifest ${reference} from ${this.repository}`);
    const digest = sha256(res.body);
    // By digest, the bytes must hash to it; by tag, to what the registry says it served.
    const expected = isDigest(reference) ? reference : (res.headers.get('docker-content-digest') ?? digest);
    if (digest !== expected) {
      throw failed(`manifest ${reference} from ${this.location} is corrupt: its bytes hash to ${digest}, expected ${expected}`);
    }
    const json = parseManifest(res.body, `${this.location} manifest ${reference}`);
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const descriptor: Descriptor = { mediaType: json.mediaType || contentType || OCI_MANIFEST, digest, size: res.body.byteLength };
    if (json.artifactType) descriptor.artifactType = json.artifactType;
    return { descriptor, bytes: res.body };
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const json = parseManifest(bytes, 'manifest');
    const res = await this.http.send({
      method: 'PUT',
      path: this.path('manifests', tag ?? digest),
      scope: this.push,
      headers: { 'content-type': mediaType },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) throw this.http.error(res, `store manifest ${tag ?? digest} in ${this.repository}`);
    const stored = res.headers.get('docker-content-digest');
    if (stored && stored !== digest) {
      throw failed(`registry ${this.registry} stored manifest ${digest} as ${stored}: it rewrote the bytes`);
    }
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if (json.artifactType) descriptor.artifactType = json.artifactType;
    // A registry that indexed the subject itself says so; otherwise keep the fallback tag.
    if (json.subject && !res.headers.get('oci-subject')) await this.addToReferrersTag(json.subject.digest, descriptor, json);
    return descriptor;
  }

  async referrers(subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    let listed: Descriptor[] | undefined;
    if (this.referrersApi !== false) {
      const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      const res = await this.http.send({
        method: 'GET',
        path: `${this.path('referrers', subject)}${query}`,
        scope: this.pull,
        headers: { accept: OCI_INDEX },
      });
      if (res.status === 200) {
        this.referrersApi = true;
        listed = parseManifest(res.body, `${this.location} referrers of ${subject}`).manifests ?? [];
      } else if (res.status === 404 || res.status === 405 || res.status === 400) {
        // Not implemented here (distribution 2.8 answers a plain-text 404): use the tag schema.
        this.referrersApi = false;
      } else {
        throw this.http.error(res, `list referrers of ${subject} in ${this.repository}`);
      }
    }
    listed ??= (await this.readReferrersTag(subject)).manifests ?? [];
    return artifactType ? listed.filter((d) => d.artifactType === artifactType) : listed;
  }

  async tags(): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = `/v2/${this.repository}/tags/list?n=1000`;
    while (path) {
      const res: HttpResponse = await this.http.send({ method: 'GET', path, scope: this.pull });
      if (res.status === 404) return out; // a repository nobody pushed to yet
      if (res.status !== 200) throw this.http.error(res, `list tags of ${this.repository}`);
      const json = JSON.parse(Buffer.from(res.body).toString('utf8')) as { tags?: string[] | null };
      out.push(...(json.tags ?? []));
      // Pagination: Link: </v2/<name>/tags/list?n=1000&last=x>; rel="next"
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      path = next ? new URL(next[1]!, res.url).toString() : undefined;
    }
    return out;
  }

  private path(kind: 'blobs' | 'manifests' | 'referrers', reference: string): string {
    return `/v2/${this.repository}/${kind}/${reference}`;
  }

  private async readReferrersTag(subject: Digest): Promise<ManifestJson> {
    try {
      const { bytes } = await this.getManifest(referrersTag(subject));
      return parseManifest(bytes, `${this.location}:${referrersTag(subject)}`);
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') return { manifests: [] };
      throw err;
    }
  }

  /** OCI distribution 1.1 "referrers tag schema": read, add, write back if it changed. */
  private async addToReferrersTag(subject: Digest, referrer: Descriptor, json: ManifestJson): Promise<void> {
    const index = await this.readReferrersTag(subject);
    const manifests = index.manifests ?? [];
    if (manifests.some((d) => d.digest === referrer.digest)) return;
    const entry: Descriptor = { mediaType: referrer.mediaType, digest: referrer.digest, size: referrer.size };
    // The spec: artifactType falls back to the config's media type; annotations are copied.
    const artifactType = json.artifactType ?? json.config?.mediaType;
    if (artifactType) entry.artifactType = artifactType;
    if (json.annotations) entry.annotations = json.annotations;
    const next = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...manifests, entry] };
    await this.putManifest(new TextEncoder().encode(JSON.stringify(next)), OCI_INDEX, referrersTag(subject));
  }
}

/** The fallback tag for a subject: `sha256-<hex>`. */
export function referrersTag(subject: Digest): string {
  return subject.replace(':', '-');
}

function parseManifest(bytes: Uint8Array, where: string): ManifestJson {
  try {
    const json: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (json && typeof json === 'object' && !Array.isArray(json)) return json as ManifestJson;
  } catch {
    // fall through
  }
  throw failed(`${where} is not a JSON manifest`, [{ where, message: 'expected a JSON object' }]);
}
