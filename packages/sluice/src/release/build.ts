/**
 * `sluice release build`: agent.yaml and its files → one content-addressed release.
 *
 * Everything is read and validated first; only a release that is wholly valid reaches the
 * store, so bad input never leaves anything half-written.
 */
import {
  assembleManifest,
  blobComponent,
  canonicalBytes,
  inlineComponents,
  invalid,
  MEDIA_TYPES,
  promptMediaType,
  sha256,
  toolFacts,
  treeArchive,
  type ComponentWithBytes,
  type Digest,
  type ReleaseManifest,
} from '@sluice/core';
import { jsonSchemaProblems } from './json-schema.js';
import { loadAgentSource, parseJsonFile, readSourceFile, readSourceTree, SOURCE_FILE, type LoadedSource, type Problems } from './source-files.js';
import { releaseRef, type ReleaseStore } from './store.js';

export interface CollectedRelease {
  ref: string;
  digest: Digest;
  manifest: ReleaseManifest;
  manifestBytes: Uint8Array;
  blobs: Map<Digest, Uint8Array>;
}

/** Read, validate and hash an agent directory, writing nothing. */
export async function collectRelease(dir: string): Promise<CollectedRelease> {
  const ls = await loadAgentSource(dir);
  const { source } = ls;
  const problems: Problems = [];
  const parts: ComponentWithBytes[] = [...inlineComponents(source)];

  for (const [name, path] of Object.entries(source.prompts ?? {})) {
    const bytes = await readSourceFile(ls, path, `prompts.${name}`, problems);
    if (bytes) parts.push(blobComponent('prompt', name, promptMediaType(path), bytes, { source: path }));
  }
  for (const [i, tool] of (source.tools ?? []).entries()) {
    const bytes = await schemaFile(ls, tool.schema, `tools[${i}].schema`, problems);
    if (bytes) parts.push(blobComponent('tool', tool.name, MEDIA_TYPES.schema, bytes, { source: tool.schema, ...toolFacts(tool) }));
  }
  if (source.memory) {
    const bytes = await schemaFile(ls, source.memory.schema, 'memory.schema', problems);
    if (bytes) parts.push(blobComponent('memory', 'memory', MEDIA_TYPES.schema, bytes, { source: source.memory.schema }));
  }
  if (source.orchestration && 'path' in source.orchestration) {
    const entries = await readSourceTree(ls, source.orchestration.path, 'orchestration.path', problems);
    if (entries) parts.push(blobComponent('orchestration', 'orchestration', MEDIA_TYPES.tree, treeArchive(entries), { source: source.orchestration.path }));
  }

  if (problems.length > 0) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw invalid(`${first.where}: ${first.message}${more}`, problems);
  }

  const manifest = assembleManifest(source.agent, source.version, parts.map((p) => p.component));
  const blobs = new Map<Digest, Uint8Array>();
  for (const p of parts) if (p.component.value === undefined) blobs.set(p.component.digest, p.bytes);
  const manifestBytes = canonicalBytes(manifest);
  return { ref: releaseRef(manifest), digest: sha256(manifestBytes), manifest, manifestBytes, blobs };
}

async function schemaFile(ls: LoadedSource, rel: string, field: string, problems: Problems): Promise<Uint8Array | undefined> {
  const bytes = await readSourceFile(ls, rel, field, problems);
  if (!bytes) return undefined;
  const before = problems.length;
  const schema = parseJsonFile(bytes, ls.show(rel), `${SOURCE_FILE}: ${field}`, problems);
  if (problems.length > before) return undefined;
  const found = jsonSchemaProblems(schema);
  for (const p of found) problems.push({ where: `${ls.show(rel)}: ${p.pointer}`, message: `invalid JSON Schema: ${p.message} (${ls.show(SOURCE_FILE)}: ${field})` });
  return found.length === 0 ? bytes : undefined;
}

export interface BuildResult extends CollectedRelease {
  /** False when this exact release was already in the store. */
  created: boolean;
  stored: boolean;
}

/** Build `dir` into `store` (or only compute it, with dryRun). */
export async function buildRelease(dir: string, store: ReleaseStore | undefined): Promise<BuildResult> {
  const collected = await collectRelease(dir);
  if (!store) return { ...collected, created: false, stored: false };
  const put = await store.putRelease(collected.manifest, collected.blobs);
  return { ...collected, created: put.created, stored: true };
}
