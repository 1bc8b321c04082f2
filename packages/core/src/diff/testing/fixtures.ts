/**
 * Hand-made releases for tests: a compact description in, a manifest with real digests and the
 * component bytes out, hashed the way `sluice release build` hashes them (file bytes for blob
 * components, canonical JSON for inline values).
 */
import { canonicalBytes, type JsonValue } from '../../canonical/canonical-json.js';
import { sha256, type Digest } from '../../canonical/digest.js';
import { compareComponents, MEDIA_TYPES, RELEASE_MEDIA_TYPE, type Component, type ReleaseManifest, type ToolRisk } from '../../release/manifest.js';
import type { ReleaseSnapshot } from '../release-diff.js';

export interface ToolSpec {
  name: string;
  schema: JsonValue;
  risk?: ToolRisk;
  external?: boolean;
  tags?: string[];
}

export interface AgentSpec {
  agent: string;
  version: string;
  model?: JsonValue;
  prompts?: Record<string, string>;
  tools?: ToolSpec[];
  memory?: JsonValue;
  /** Orchestration source, hashed as an opaque blob. */
  orchestration?: string;
  runtime?: JsonValue;
  policies?: JsonValue;
  integrations?: JsonValue;
  secrets?: JsonValue;
  notes?: JsonValue;
}

export interface BuiltRelease extends Required<Pick<ReleaseSnapshot, 'manifest' | 'blob'>> {
  blobs: Map<Digest, Uint8Array>;
}

const enc = new TextEncoder();

export function buildRelease(spec: AgentSpec): BuiltRelease {
  const blobs = new Map<Digest, Uint8Array>();
  const components: Component[] = [];
  const blob = (kind: Component['kind'], name: string, bytes: Uint8Array, mediaType: string, source: string, extra: Partial<Component> = {}) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    components.push({ kind, name, mediaType, digest, size: bytes.byteLength, source, ...extra });
  };
  const inline = (kind: Component['kind'], value: JsonValue | undefined) => {
    if (value === undefined) return;
    const bytes = canonicalBytes(value);
    components.push({ kind, name: kind, mediaType: MEDIA_TYPES.json, digest: sha256(bytes), size: bytes.byteLength, value });
  };
  inline('model', spec.model);
  for (const [name, text] of Object.entries(spec.prompts ?? {})) blob('prompt', name, enc.encode(text), MEDIA_TYPES.prompt, `prompts/${name}.md`);
  for (const t of spec.tools ?? []) {
    const extra: Partial<Component> = {};
    if (t.risk) extra.risk = t.risk;
    if (t.external !== undefined) extra.external = t.external;
    if (t.tags) extra.tags = t.tags;
    blob('tool', t.name, enc.encode(JSON.stringify(t.schema, null, 2)), MEDIA_TYPES.schema, `tools/${t.name}.json`, extra);
  }
  if (spec.memory !== undefined) blob('memory', 'memory', enc.encode(JSON.stringify(spec.memory, null, 2)), MEDIA_TYPES.schema, 'memory/session.schema.json');
  if (spec.orchestration !== undefined) blob('orchestration', 'orchestration', enc.encode(spec.orchestration), MEDIA_TYPES.tree, 'src');
  inline('runtime', spec.runtime);
  inline('policies', spec.policies);
  inline('integrations', spec.integrations);
  inline('secrets', spec.secrets);
  inline('notes', spec.notes);
  components.sort(compareComponents);
  const manifest: ReleaseManifest = { mediaType: RELEASE_MEDIA_TYPE, schemaVersion: 1, agent: spec.agent, version: spec.version, components };
  return { manifest, blobs, blob: (d) => blobs.get(d) };
}

/** DESIGN.md's example agent. */
export function supportAgent(): AgentSpec {
  return {
    agent: 'support-agent',
    version: '2.3.1',
    model: { provider: 'openai', name: 'gpt-5-mini', params: { temperature: 0.2 } },
    prompts: { system: 'You are a support agent.\nBe brief.\nNever promise refunds.\n', triage: 'Classify the ticket.\n' },
    tools: [
      {
        name: 'lookup_order',
        schema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
        risk: 'low',
      },
      {
        name: 'issue_refund',
        schema: {
          type: 'object',
          properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 } },
          required: ['orderId', 'amount'],
          additionalProperties: false,
        },
        risk: 'high',
        external: true,
        tags: ['money'],
      },
    ],
    memory: { type: 'object', properties: { summary: { type: 'string' }, turns: { type: 'integer' } }, required: ['summary'] },
    orchestration: 'export const run = () => "v1";\n',
    runtime: { timeoutMs: 30000, retries: 2, concurrency: 16, queue: { max: 500 } },
    policies: { escalation: { confidenceBelow: 0.4 }, approvals: { refundAboveUsd: 200 } },
    integrations: [{ name: 'zendesk', scopes: ['tickets.write'] }],
    secrets: ['OPENAI_API_KEY', 'ZENDESK_TOKEN'],
    notes: { breaking: 'none' },
  };
}

/** A deep copy to edit. */
export function edit(spec: AgentSpec, change: (s: AgentSpec) => void): AgentSpec {
  const copy = structuredClone(spec);
  change(copy);
  return copy;
}
