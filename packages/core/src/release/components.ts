/**
 * Turning a validated source into components and a manifest: the pure half of `release build`.
 * The CLI reads the files; everything that decides digests, names and order is here, so the
 * same input gives the same release digest on any machine.
 */
import { canonicalBytes, type JsonValue } from '../canonical/canonical-json.js';
import { sha256, type Digest } from '../canonical/digest.js';
import { invalid } from '../errors/errors.js';
import { compareComponents, MEDIA_TYPES, RELEASE_MEDIA_TYPE, type Component, type ComponentKind, type ReleaseManifest } from './manifest.js';
import type { AgentSource } from './source.js';

export interface ComponentWithBytes {
  component: Component;
  /** The bytes the digest is over (canonical JSON for inline values). */
  bytes: Uint8Array;
}

/** A structured component carried inline: its digest is over its canonical JSON. */
export function valueComponent(kind: ComponentKind, value: JsonValue, name: string = kind): ComponentWithBytes {
  const bytes = canonicalBytes(value);
  return { component: { kind, name, mediaType: MEDIA_TYPES.json, digest: sha256(bytes), size: bytes.byteLength, value }, bytes };
}

/** A file-backed component: its digest is over the file's bytes, exactly as they are. */
export function blobComponent(
  kind: ComponentKind,
  name: string,
  mediaType: string,
  bytes: Uint8Array,
  extra: Pick<Component, 'source' | 'risk' | 'external' | 'tags'> = {},
): ComponentWithBytes {
  return { component: { kind, name, mediaType, digest: sha256(bytes), size: bytes.byteLength, ...extra }, bytes };
}

/** Prompts are text; Markdown files say so, so registries and viewers render them right. */
export function promptMediaType(path: string): string {
  return /\.(md|markdown)$/i.test(path) ? MEDIA_TYPES.prompt : MEDIA_TYPES.text;
}

/**
 * The inline components of a source: model, runtime, policies, integrations, secrets, notes and
 * an image-pinned orchestration. Lists whose order carries no meaning are sorted, so reordering
 * YAML is not a change.
 */
export function inlineComponents(src: AgentSource): ComponentWithBytes[] {
  const out: ComponentWithBytes[] = [];
  const model: Record<string, JsonValue> = { provider: src.model.provider, name: src.model.name };
  if (src.model.params !== undefined) model.params = src.model.params as JsonValue;
  out.push(valueComponent('model', model));
  if (src.orchestration && 'image' in src.orchestration) out.push(valueComponent('orchestration', { image: src.orchestration.image }));
  if (src.runtime !== undefined) out.push(valueComponent('runtime', src.runtime as JsonValue));
  if (src.policies !== undefined) out.push(valueComponent('policies', src.policies as JsonValue));
  if (src.integrations !== undefined) {
    const integrations = [...src.integrations]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((i) => ({ name: i.name, scopes: [...new Set(i.scopes)].sort() }));
    out.push(valueComponent('integrations', integrations));
  }
  if (src.secrets !== undefined) out.push(valueComponent('secrets', [...new Set(src.secrets)].sort()));
  if (src.notes !== undefined) out.push(valueComponent('notes', src.notes as JsonValue));
  return out;
}

/** What classification needs to know about a tool, normalized (sorted unique tags; external only when true). */
export function toolFacts(t: { risk: Component['risk']; external?: boolean; tags?: string[] }): Pick<Component, 'risk' | 'external' | 'tags'> {
  const facts: Pick<Component, 'risk' | 'external' | 'tags'> = { risk: t.risk };
  if (t.external) facts.external = true;
  if (t.tags && t.tags.length > 0) facts.tags = [...new Set(t.tags)].sort();
  return facts;
}

/** The manifest: components sorted by kind then name; a duplicate kind/name is an error. */
export function assembleManifest(agent: string, version: string, components: Component[]): ReleaseManifest {
  const sorted = [...components].sort(compareComponents);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.kind === b.kind && a.name === b.name) throw invalid(`two ${a.kind} components are named ${a.name}`, [{ where: `${a.kind}/${a.name}`, message: 'duplicate component' }]);
  }
  return { mediaType: RELEASE_MEDIA_TYPE, schemaVersion: 1, agent, version, components: sorted };
}

/** Does an inline value still hash to its component's digest? (Used by verification.) */
export function inlineValueMatches(c: Component): { ok: boolean; actual?: Digest } {
  if (c.value === undefined) return { ok: true };
  const bytes = canonicalBytes(c.value);
  const actual = sha256(bytes);
  return actual === c.digest && bytes.byteLength === c.size ? { ok: true } : { ok: false, actual };
}
