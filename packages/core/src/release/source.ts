/**
 * The release source: `agent.yaml`, the file a team edits and `sluice release build` reads.
 * This module validates its parsed value; reading files and YAML lives in the CLI.
 *
 * Errors name the file and the field path (`agent.yaml: tools[1].risk: expected one of
 * low|medium|high`), and list every problem at once, so one run shows everything to fix.
 */
import { z } from 'zod';
import { invalid, type ErrorDetail } from '../errors/errors.js';

/** semver.org's recommended pattern (2.0.0). */
export const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** Agent names are DNS-label-like so they fit hostnames, OCI ref names and metric labels. */
export const AGENT_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names of prompts, tools and integrations: what a function-calling API accepts. */
export const COMPONENT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Environment-variable style: a secret is referenced by name, never by value. */
export const SECRET_NAME_RE = /^[A-Z][A-Z0-9_]*$/;
/** An OCI image pinned by digest: anything mutable (a bare tag) cannot be part of an immutable release. */
export const PINNED_IMAGE_RE = /^[a-z0-9][a-z0-9._\-/:]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;

/**
 * A path inside the agent directory, relative, with `/` separators. Whether it exists and
 * whether symlinks keep it inside is checked where the files are read.
 */
export function checkRelativePath(p: string): string | undefined {
  if (p.length === 0) return 'expected a path';
  if (p.includes('\\')) return 'use / as the path separator';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'expected a path relative to the agent directory';
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  let depth = 0;
  for (const s of parts) {
    depth += s === '..' ? -1 : 1;
    if (depth < 0) return 'path leaves the agent directory';
  }
  if (parts.length === 0) return 'expected a path below the agent directory';
  return undefined;
}

/** `./prompts//system.md` → `prompts/system.md`, so the same file always has one name. */
export function normalizeRelativePath(p: string): string {
  const out: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out.join('/');
}

const relPath = z
  .string({ error: 'expected a relative path' })
  .superRefine((p, ctx) => {
    const why = checkRelativePath(p);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  })
  .transform(normalizeRelativePath);

const json = z.json({ error: 'expected plain data (strings, numbers, booleans, lists, maps)' });
const jsonMap = z.record(z.string(), json, { error: 'expected a map' });
const name = (what: string) => z.string({ error: `expected a ${what} name` }).regex(COMPONENT_NAME_RE, `expected a ${what} name: letters, digits, _ . - (max 128)`);

const secretName = z.unknown().superRefine((v, ctx) => {
  // Never echo what looks like a value back: the message names the secret, not its content.
  if (typeof v === 'object' && v !== null) {
    const key = Array.isArray(v) ? '' : Object.keys(v)[0] ?? '';
    ctx.addIssue({ code: 'custom', message: `expected a secret name only, got a mapping ${key ? `(${key}: …) ` : ''}that carries a value; list names like ZENDESK_TOKEN and keep values in your secret store` });
    return;
  }
  if (typeof v !== 'string') {
    ctx.addIssue({ code: 'custom', message: 'expected a secret name like ZENDESK_TOKEN' });
    return;
  }
  if (v.includes('=') || /\s/.test(v.trim()) || v.includes(':')) {
    const head = v.split(/[=:\s]/)[0] ?? '';
    ctx.addIssue({ code: 'custom', message: `"${head}…" carries a value; list the secret's name only (e.g. ${SECRET_NAME_RE.test(head) ? head : 'ZENDESK_TOKEN'}) and keep values in your secret store` });
    return;
  }
  if (!SECRET_NAME_RE.test(v)) {
    ctx.addIssue({ code: 'custom', message: `expected an UPPER_SNAKE secret name like ZENDESK_TOKEN, got a string of ${v.length} characters that is not one (values never belong here)` });
  }
}) as z.ZodType<string>;

export const toolSourceSchema = z.strictObject(
  {
    name: name('tool'),
    schema: relPath,
    risk: z.enum(['low', 'medium', 'high'], { error: 'expected one of low|medium|high' }),
    external: z.boolean({ error: 'expected true or false' }).optional(),
    tags: z.array(z.string({ error: 'expected a tag' }).regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase tag like money or customer-data'), { error: 'expected a list of tags' }).optional(),
  },
  { error: 'expected {name, schema, risk, external?, tags?}' },
);

export const agentSourceSchema = z.strictObject(
  {
    agent: z.string({ error: 'expected the agent name' }).regex(AGENT_NAME_RE, 'expected a lowercase name of letters, digits and -, like support-agent'),
    version: z.string({ error: 'expected a semver version like 2.3.1 (quote it if YAML reads it as a number)' }).regex(SEMVER_RE, 'expected a semver version like 2.3.1'),
    model: z.strictObject(
      {
        provider: z.string({ error: 'expected the model provider, e.g. openai' }).min(1, 'expected the model provider'),
        name: z.string({ error: 'expected the model name' }).min(1, 'expected the model name'),
        params: jsonMap.optional(),
      },
      { error: 'expected {provider, name, params?}' },
    ),
    prompts: z.record(name('prompt'), relPath, { error: 'expected a map of prompt name to file' }).optional(),
    tools: z.array(toolSourceSchema, { error: 'expected a list of tools' }).optional(),
    memory: z.strictObject({ schema: relPath }, { error: 'expected {schema: <file>}' }).optional(),
    orchestration: z
      .union(
        [
          z.strictObject({ image: z.string().regex(PINNED_IMAGE_RE, 'expected an image pinned by digest, like ghcr.io/acme/support@sha256:<64 hex>') }),
          z.strictObject({ path: relPath }),
        ],
        { error: 'expected {image: <ref@sha256:…>} or {path: <folder>}' },
      )
      .optional(),
    runtime: z
      .looseObject(
        {
          timeoutMs: z.number().int().positive().optional(),
          retries: z.number().int().min(0).optional(),
          concurrency: z.number().int().positive().optional(),
          queue: z.looseObject({ max: z.number().int().min(0).optional() }).optional(),
        },
        { error: 'expected a map' },
      )
      .optional(),
    policies: jsonMap.optional(),
    integrations: z
      .array(
        z.strictObject(
          { name: name('integration'), scopes: z.array(z.string({ error: 'expected a scope' }).min(1), { error: 'expected a list of scopes' }).default([]) },
          { error: 'expected {name, scopes}' },
        ),
        { error: 'expected a list of integrations' },
      )
      .optional(),
    secrets: z.array(secretName, { error: 'expected a list of secret names' }).optional(),
    notes: jsonMap.optional(),
  },
  { error: 'expected a map with agent, version and model' },
);

export type AgentSource = z.output<typeof agentSourceSchema>;
export type ToolSource = z.output<typeof toolSourceSchema>;

/** `['tools', 1, 'risk']` → `tools[1].risk`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Validate a parsed agent.yaml; throws SluiceError 'invalid' naming `file` and each field. */
export function validateAgentSource(data: unknown, file = 'agent.yaml'): AgentSource {
  const parsed = agentSourceSchema.safeParse(data);
  const details: ErrorDetail[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldPath(issue.path);
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
      details.push({ where: field ? `${file}: ${field}` : file, message });
    }
  } else {
    details.push(...duplicates(parsed.data, file));
  }
  if (details.length > 0) {
    const first = details[0]!;
    const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
    throw invalid(`${first.where}: ${first.message}${more}`, details);
  }
  return (parsed as { data: AgentSource }).data;
}

function duplicates(src: AgentSource, file: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const check = (items: string[] | undefined, field: string, what: string) => {
    const seen = new Map<string, number>();
    items?.forEach((n, i) => {
      if (seen.has(n)) out.push({ where: `${file}: ${field}[${i}]`, message: `duplicate ${what} ${n} (also ${field}[${seen.get(n)}])` });
      else seen.set(n, i);
    });
  };
  check(src.tools?.map((t) => t.name), 'tools', 'tool');
  check(src.integrations?.map((t) => t.name), 'integrations', 'integration');
  check(src.secrets, 'secrets', 'secret');
  return out;
}
