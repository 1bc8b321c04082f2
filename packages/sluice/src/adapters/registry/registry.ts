/**
 * An OCI content store: where release blobs and manifests live. Two backends share this shape:
 * `oci-layout/` (an OCI image layout on disk, the default `.sluice/store`) and `distribution/`
 * (any registry that speaks the OCI distribution spec). Push and pull are copies between two
 * Registry instances, so neither side needs to know about the other.
 */
import type { Digest } from '@sluice/core';

/** An OCI content descriptor (image-spec descriptor.md). */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ManifestWithBytes {
  descriptor: Descriptor;
  /** The exact bytes: a manifest's digest is over these, so never re-serialize them. */
  bytes: Uint8Array;
}

export interface Registry {
  /** Human-readable location, for messages: a directory or `host/repo`. */
  readonly location: string;

  hasBlob(digest: Digest): Promise<boolean>;
  /** Throws SluiceError 'not-found' when absent; verifies the bytes against the digest. */
  getBlob(digest: Digest): Promise<Uint8Array>;
  putBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor>;

  /** A manifest by tag (or layout ref name) or by digest; throws 'not-found'. */
  getManifest(reference: string): Promise<ManifestWithBytes>;
  /** Stores a manifest; with `tag`, also points the tag (ref name) at it. */
  putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor>;

  /** Manifests whose `subject` is the given manifest digest (OCI 1.1 referrers), e.g. signatures. */
  referrers(subject: Digest, artifactType?: string): Promise<Descriptor[]>;
  /** Tags / ref names this registry knows. */
  tags(): Promise<string[]>;
}
