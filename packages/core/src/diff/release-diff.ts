/**
 * The component-level diff of two releases: what a reviewer needs to judge a change, and what
 * change classification is computed from. Pure: component bytes come from a lookup the caller
 * fills (see `blobsNeededForDiff`), so the diff runs the same in the CLI, the control API and tests.
 */
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import type { JsonValue } from '../canonical/canonical-json.js';
import type { Digest } from '../canonical/digest.js';
import { findComponent, releaseDigest, type Component, type ComponentKind, type ReleaseManifest, type ToolRisk } from '../release/manifest.js';
import { classify, type Classification } from './classify.js';
import { diffFields, type FieldChange } from './fields.js';
import { DEFAULT_POLICY, type ClassificationPolicy, type Concern } from './policy.js';
import { isBreakingMemory, isBreakingTool } from './breaking.js';
import { schemaCompatibility, type SchemaCompatibility } from './schema-compat.js';

/** One side of a diff: a manifest and the bytes of its file-backed components. */
export interface ReleaseSnapshot {
  manifest: ReleaseManifest;
  /** The release digest; computed from the manifest when absent. */
  digest?: Digest;
  /** Bytes of a blob component by digest; `undefined` when the caller could not provide them. */
  blob?: (digest: Digest) => Uint8Array | undefined;
}

export type Presence = 'added' | 'removed' | 'changed';

export interface ReleaseRef {
  agent: string;
  version: string;
  digest: Digest;
}

export interface PromptChange {
  name: string;
  change: Presence;
  source?: string;
  before?: Digest;
  after?: Digest;
  /** Unified diff of the prompt text (`--- a/…`, `+++ b/…`); absent when the bytes were unavailable. */
  patch?: string;
  linesAdded: number;
  linesRemoved: number;
}

export interface ToolFacts {
  digest: Digest;
  risk?: ToolRisk;
  external: boolean;
  tags: string[];
}

export interface ToolChange {
  name: string;
  change: Presence;
  before?: ToolFacts;
  after?: ToolFacts;
  /** Compatibility of the argument schema, old → new; present when both sides exist and the schema changed. */
  schema?: SchemaCompatibility;
  risk?: { before?: ToolRisk; after?: ToolRisk };
  external?: { before: boolean; after: boolean };
  tags?: { added: string[]; removed: string[] };
  /** Old callers' arguments may be rejected (or the tool is gone). See docs/classification.md. */
  breaking: boolean;
  /** Tags of this tool (before or after) that the policy calls sensitive. */
  sensitiveTags: string[];
}

export interface MemoryChange {
  change: Presence;
  before?: Digest;
  after?: Digest;
  compatibility?: SchemaCompatibility;
  /** The new release may not read what the old one wrote (per the policy's required level). */
  breaking: boolean;
}

export interface ModelChange {
  fields: FieldChange[];
  provider?: { before?: string; after?: string };
  /** The provider changed: a different vendor serves the model. */
  vendorSwap: boolean;
}

export interface IntegrationRef {
  name: string;
  scopes: string[];
}

export interface IntegrationsChange {
  added: IntegrationRef[];
  removed: IntegrationRef[];
  changed: Array<{ name: string; scopesAdded: string[]; scopesRemoved: string[]; fields: FieldChange[] }>;
}

export interface BlobSide {
  digest: Digest;
  mediaType: string;
  source?: string;
  value?: JsonValue;
}

export interface ReleaseDiff {
  from: ReleaseRef;
  to: ReleaseRef;
  /** Same release digest. */
  identical: boolean;
  model: ModelChange | null;
  prompts: PromptChange[];
  tools: ToolChange[];
  memory: MemoryChange | null;
  runtime: FieldChange[];
  /** Policy fields outside `approvals` (escalation thresholds, ...): a runtime concern. */
  policies: FieldChange[];
  /** Fields under `policies.approvals`: the approval-rules concern. Paths keep the `/approvals` prefix. */
  approvals: FieldChange[];
  secrets: { added: string[]; removed: string[] };
  integrations: IntegrationsChange;
  orchestration: { change: Presence; before?: BlobSide; after?: BlobSide } | null;
  notes: FieldChange[];
  concerns: Concern[];
  classification: Classification;
}

/** Digests whose bytes `diffReleases` reads: prompts, tool schemas and memory schemas that differ. */
export function blobsNeededForDiff(a: ReleaseManifest, b: ReleaseManifest): Digest[] {
  const out = new Set<Digest>();
  for (const kind of ['prompt', 'tool', 'memory'] as const) {
    const left = byName(a, kind);
    const right = byName(b, kind);
    for (const name of new Set([...left.keys(), ...right.keys()])) {
      const x = left.get(name);
      const y = right.get(name);
      if (x?.digest === y?.digest) continue;
      if (x) out.add(x.digest);
      if (y) out.add(y.digest);
    }
  }
  return [...out].sort();
}

export function diffReleases(a: ReleaseSnapshot, b: ReleaseSnapshot, policy: ClassificationPolicy = DEFAULT_POLICY): ReleaseDiff {
  const ma = a.manifest;
  const mb = b.manifest;
  const from = { agent: ma.agent, version: ma.version, digest: a.digest ?? releaseDigest(ma) };
  const to = { agent: mb.agent, version: mb.version, digest: b.digest ?? releaseDigest(mb) };
  const policyDiff = diffFields(valueOf(ma, 'policies'), valueOf(mb, 'policies'));
  const isApproval = (c: FieldChange) => c.path === '/approvals' || c.path.startsWith('/approvals/');
  const base = {
    from,
    to,
    identical: from.digest === to.digest,
    model: diffModel(ma, mb),
    prompts: diffPrompts(a, b),
    tools: diffTools(a, b, policy),
    memory: diffMemory(a, b, policy),
    runtime: diffFields(valueOf(ma, 'runtime'), valueOf(mb, 'runtime')),
    policies: policyDiff.filter((c) => !isApproval(c)),
    approvals: policyDiff.filter(isApproval),
    secrets: diffNames(names(valueOf(ma, 'secrets')), names(valueOf(mb, 'secrets'))),
    integrations: diffIntegrations(valueOf(ma, 'integrations'), valueOf(mb, 'integrations')),
    orchestration: diffOrchestration(ma, mb),
    notes: diffFields(valueOf(ma, 'notes'), valueOf(mb, 'notes')),
  };
  const concerns = concernsOf(base);
  const diff = { ...base, concerns } as ReleaseDiff;
  diff.classification = classify(diff, policy);
  return diff;
}

/** The concerns a diff touches, in CONCERNS order. */
export function concernsOf(d: Omit<ReleaseDiff, 'concerns' | 'classification'>): Concern[] {
  const touched: Record<Concern, boolean> = {
    model: d.model !== null,
    prompt: d.prompts.length > 0,
    tools: d.tools.length > 0,
    'approval-rules': d.approvals.length > 0,
    memory: d.memory !== null,
    runtime: d.runtime.length > 0 || d.policies.length > 0,
    secrets: d.secrets.added.length + d.secrets.removed.length > 0,
    integrations: d.integrations.added.length + d.integrations.removed.length + d.integrations.changed.length > 0,
    orchestration: d.orchestration !== null,
  };
  return (Object.keys(touched) as Concern[]).filter((c) => touched[c]);
}

function byName(m: ReleaseManifest, kind: ComponentKind): Map<string, Component> {
  return new Map(m.components.filter((c) => c.kind === kind).map((c) => [c.name, c]));
}

function valueOf(m: ReleaseManifest, kind: ComponentKind): JsonValue | undefined {
  const c = findComponent(m, kind);
  if (!c) return undefined;
  // A structured component without its inline value can still be compared by digest.
  return c.value !== undefined ? c.value : { digest: c.digest };
}

function isRecord(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function diffModel(a: ReleaseManifest, b: ReleaseManifest): ModelChange | null {
  const before = valueOf(a, 'model');
  const after = valueOf(b, 'model');
  const fields = diffFields(before, after);
  if (fields.length === 0) return null;
  const pb = isRecord(before) && typeof before.provider === 'string' ? before.provider : undefined;
  const pa = isRecord(after) && typeof after.provider === 'string' ? after.provider : undefined;
  const change: ModelChange = { fields, vendorSwap: pb !== undefined && pa !== undefined && pb !== pa };
  if (pb !== pa) change.provider = { before: pb, after: pa };
  return change;
}

const decoder = new TextDecoder('utf-8');

function text(side: ReleaseSnapshot, c: Component | undefined): string | undefined {
  if (!c) return '';
  const bytes = side.blob?.(c.digest);
  return bytes ? decoder.decode(bytes) : undefined;
}

function diffPrompts(a: ReleaseSnapshot, b: ReleaseSnapshot): PromptChange[] {
  const left = byName(a.manifest, 'prompt');
  const right = byName(b.manifest, 'prompt');
  const out: PromptChange[] = [];
  for (const name of sortedUnion(left, right)) {
    const x = left.get(name);
    const y = right.get(name);
    if (x?.digest === y?.digest) continue;
    const change: PromptChange = { name, change: presence(x, y), linesAdded: 0, linesRemoved: 0 };
    const source = y?.source ?? x?.source;
    if (source) change.source = source;
    if (x) change.before = x.digest;
    if (y) change.after = y.digest;
    const before = text(a, x);
    const after = text(b, y);
    if (before !== undefined && after !== undefined) {
      const file = source ?? `prompts/${name}`;
      const patch = structuredPatch(x ? `a/${file}` : '/dev/null', y ? `b/${file}` : '/dev/null', before, after, undefined, undefined, { context: 3 });
      for (const hunk of patch.hunks) {
        for (const line of hunk.lines) {
          if (line.startsWith('+')) change.linesAdded++;
          else if (line.startsWith('-')) change.linesRemoved++;
        }
      }
      // Plain unified diff (`---`/`+++` headers, no `Index:` banner), as `git diff` prints it.
      change.patch = formatPatch(patch, FILE_HEADERS_ONLY);
    }
    out.push(change);
  }
  return out;
}

function facts(c: Component): ToolFacts {
  const f: ToolFacts = { digest: c.digest, external: c.external === true, tags: [...(c.tags ?? [])].sort() };
  if (c.risk) f.risk = c.risk;
  return f;
}

function parseSchema(side: ReleaseSnapshot, c: Component): { ok: true; schema: unknown } | { ok: false; why: string } {
  const bytes = side.blob?.(c.digest);
  if (!bytes) return { ok: false, why: `schema bytes for ${c.digest} are not available` };
  try {
    return { ok: true, schema: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false, why: `schema ${c.source ?? c.digest} is not valid JSON` };
  }
}

/** Compatibility of two component schemas; unreadable bytes count as incompatible both ways. */
function compat(a: ReleaseSnapshot, x: Component, b: ReleaseSnapshot, y: Component): SchemaCompatibility {
  const before = parseSchema(a, x);
  const after = parseSchema(b, y);
  if (before.ok && after.ok) return schemaCompatibility(before.schema, after.schema);
  const why = [before, after].filter((r) => !r.ok).map((r) => (r as { why: string }).why).join('; ');
  return {
    level: 'NONE',
    backward: false,
    forward: false,
    findings: [
      { breaks: 'backward', at: '', message: `cannot check compatibility: ${why}` },
      { breaks: 'forward', at: '', message: `cannot check compatibility: ${why}` },
    ],
  };
}

function diffTools(a: ReleaseSnapshot, b: ReleaseSnapshot, policy: ClassificationPolicy): ToolChange[] {
  const left = byName(a.manifest, 'tool');
  const right = byName(b.manifest, 'tool');
  const sensitive = new Set(policy.sensitiveTags);
  const out: ToolChange[] = [];
  for (const name of sortedUnion(left, right)) {
    const x = left.get(name);
    const y = right.get(name);
    const fx = x ? facts(x) : undefined;
    const fy = y ? facts(y) : undefined;
    if (fx && fy && JSON.stringify(fx) === JSON.stringify(fy)) continue;
    const t: ToolChange = { name, change: presence(x, y), breaking: false, sensitiveTags: [] };
    if (fx) t.before = fx;
    if (fy) t.after = fy;
    if (x && y && fx && fy) {
      if (x.digest !== y.digest) t.schema = compat(a, x, b, y);
      if (fx.risk !== fy.risk) t.risk = { before: fx.risk, after: fy.risk };
      if (fx.external !== fy.external) t.external = { before: fx.external, after: fy.external };
      const tags = diffNames(fx.tags, fy.tags);
      if (tags.added.length + tags.removed.length > 0) t.tags = tags;
    }
    t.breaking = isBreakingTool(t, policy);
    t.sensitiveTags = [...new Set([...(fx?.tags ?? []), ...(fy?.tags ?? [])])].filter((tag) => sensitive.has(tag)).sort();
    out.push(t);
  }
  return out;
}

function diffMemory(a: ReleaseSnapshot, b: ReleaseSnapshot, policy: ClassificationPolicy): MemoryChange | null {
  const x = findComponent(a.manifest, 'memory');
  const y = findComponent(b.manifest, 'memory');
  if (x?.digest === y?.digest) return null;
  const m: MemoryChange = { change: presence(x, y), breaking: false };
  if (x) m.before = x.digest;
  if (y) m.after = y.digest;
  if (x && y) m.compatibility = compat(a, x, b, y);
  m.breaking = isBreakingMemory(m, policy);
  return m;
}

function names(v: JsonValue | undefined): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((s) => (typeof s === 'string' ? s : isRecord(s) && typeof s.name === 'string' ? s.name : JSON.stringify(s)));
}

function diffNames(before: string[], after: string[]): { added: string[]; removed: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return { added: [...a].filter((n) => !b.has(n)).sort(), removed: [...b].filter((n) => !a.has(n)).sort() };
}

function integrations(v: JsonValue | undefined): Map<string, { [k: string]: JsonValue }> {
  const out = new Map<string, { [k: string]: JsonValue }>();
  if (Array.isArray(v)) for (const i of v) if (isRecord(i) && typeof i.name === 'string') out.set(i.name, i);
  return out;
}

function scopesOf(i: { [k: string]: JsonValue } | undefined): string[] {
  return Array.isArray(i?.scopes) ? i.scopes.filter((s): s is string => typeof s === 'string').sort() : [];
}

function diffIntegrations(before: JsonValue | undefined, after: JsonValue | undefined): IntegrationsChange {
  const left = integrations(before);
  const right = integrations(after);
  const out: IntegrationsChange = { added: [], removed: [], changed: [] };
  for (const name of sortedUnion(left, right)) {
    const x = left.get(name);
    const y = right.get(name);
    if (!x) out.added.push({ name, scopes: scopesOf(y) });
    else if (!y) out.removed.push({ name, scopes: scopesOf(x) });
    else {
      const scopes = diffNames(scopesOf(x), scopesOf(y));
      const rest = (i: { [k: string]: JsonValue }) => Object.fromEntries(Object.entries(i).filter(([k]) => k !== 'scopes' && k !== 'name'));
      const fields = diffFields(rest(x), rest(y));
      if (scopes.added.length + scopes.removed.length + fields.length > 0) {
        out.changed.push({ name, scopesAdded: scopes.added, scopesRemoved: scopes.removed, fields });
      }
    }
  }
  return out;
}

function blobSide(c: Component): BlobSide {
  const s: BlobSide = { digest: c.digest, mediaType: c.mediaType };
  if (c.source !== undefined) s.source = c.source;
  if (c.value !== undefined) s.value = c.value;
  return s;
}

function diffOrchestration(a: ReleaseManifest, b: ReleaseManifest): ReleaseDiff['orchestration'] {
  const x = findComponent(a, 'orchestration');
  const y = findComponent(b, 'orchestration');
  if (x?.digest === y?.digest) return null;
  const o: NonNullable<ReleaseDiff['orchestration']> = { change: presence(x, y) };
  if (x) o.before = blobSide(x);
  if (y) o.after = blobSide(y);
  return o;
}

function presence(x: unknown, y: unknown): Presence {
  return x === undefined ? 'added' : y === undefined ? 'removed' : 'changed';
}

function sortedUnion<T>(a: Map<string, T>, b: Map<string, T>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort();
}
