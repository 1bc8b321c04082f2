/**
 * The release manifest: the immutable description of one agent version.
 *
 * Every component is pinned by the SHA-256 of its bytes. File-backed components (prompts, tool
 * schemas, the memory schema, an orchestration tree) keep their bytes in the blob store; small
 * structured components (model, runtime, policies, integrations, secrets, notes) also carry
 * their `value` inline, so the control plane and the gateway can read them from the manifest
 * alone. An inline value's digest is the digest of its canonical JSON, so it stays verifiable.
 *
 * The release digest is the SHA-256 of the whole manifest in RFC 8785 canonical JSON.
 */
import { digestOfJson, type Digest } from '../canonical/digest.js';
import type { JsonValue } from '../canonical/canonical-json.js';

export const RELEASE_MEDIA_TYPE = 'application/vnd.sluice.release.v1+json';

export const MEDIA_TYPES = {
  release: RELEASE_MEDIA_TYPE,
  /** Canonical JSON of an inline component value. */
  json: 'application/vnd.sluice.component.v1+json',
  prompt: 'text/markdown',
  text: 'text/plain',
  schema: 'application/schema+json',
  /** A folder, as a deterministic tar (sorted entries, zeroed times and owners). */
  tree: 'application/vnd.sluice.tree.v1.tar',
  signature: 'application/vnd.dsse.envelope.v1+json',
} as const;

export const COMPONENT_KINDS = [
  'model',
  'prompt',
  'tool',
  'memory',
  'orchestration',
  'runtime',
  'policies',
  'integrations',
  'secrets',
  'notes',
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export type ToolRisk = 'low' | 'medium' | 'high';

export interface Component {
  kind: ComponentKind;
  /** Unique within its kind: the prompt key, the tool name, or the kind itself for singletons. */
  name: string;
  mediaType: string;
  digest: Digest;
  size: number;
  /** Path in the agent source this came from, relative, with `/` separators. */
  source?: string;
  /** Inline value of a structured component; its canonical JSON hashes to `digest`. */
  value?: JsonValue;
  /** What classification and routing need to know about a tool without fetching its schema. */
  risk?: ToolRisk;
  external?: boolean;
  tags?: string[];
}

export interface ReleaseManifest {
  mediaType: typeof RELEASE_MEDIA_TYPE;
  schemaVersion: 1;
  agent: string;
  version: string;
  /** Sorted by kind (in COMPONENT_KINDS order), then name, so the manifest is stable. */
  components: Component[];
}

export function releaseDigest(manifest: ReleaseManifest): Digest {
  return digestOfJson(manifest);
}

export function compareComponents(a: Pick<Component, 'kind' | 'name'>, b: Pick<Component, 'kind' | 'name'>): number {
  const byKind = COMPONENT_KINDS.indexOf(a.kind) - COMPONENT_KINDS.indexOf(b.kind);
  if (byKind !== 0) return byKind;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function findComponent(m: ReleaseManifest, kind: ComponentKind, name: string = kind): Component | undefined {
  return m.components.find((c) => c.kind === kind && c.name === name);
}
