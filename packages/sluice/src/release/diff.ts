/**
 * Diffing releases in a store: resolve both refs, fetch only the component bytes the diff reads,
 * and classify the change (the rules are `diffReleases` in @sluice/core). `sluice release diff`
 * prints this; anything else that must classify a change (a rollout gate) calls it too.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import {
  blobsNeededForDiff,
  DEFAULT_POLICY,
  diffReleases,
  invalid,
  parseClassificationPolicy,
  type ClassificationPolicy,
  type Component,
  type Digest,
  type ReleaseDiff,
} from '@sluice/core';
import type { ReleaseStore, ResolvedRelease } from './store.js';

/** Read and validate a policy file; every problem names the file and the field. */
export async function loadClassificationPolicy(file: string): Promise<ClassificationPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(`${file}: cannot read the classification policy (${(err as NodeJS.ErrnoException).code ?? String(err)})`, [{ where: file, message: 'unreadable policy file' }]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw invalid(`${file}: not valid YAML`, doc.errors.map((e) => ({ where: `${file}:${e.linePos?.[0].line ?? '?'}:${e.linePos?.[0].col ?? '?'}`, message: e.message.split('\n')[0]! })));
  }
  return parseClassificationPolicy(doc.toJS(), file);
}

/** Resolve two refs in a store and diff them: what the control plane needs to classify a rollout. */
export async function diffStoredReleases(store: ReleaseStore, refA: string, refB: string, policy: ClassificationPolicy = DEFAULT_POLICY): Promise<ReleaseDiff> {
  const a = await store.resolve(refA);
  const b = await store.resolve(refB);
  const blobs = await fetchBlobs(store, a, b);
  const blob = (d: Digest) => blobs.get(d);
  return diffReleases({ manifest: a.manifest, digest: a.digest, blob }, { manifest: b.manifest, digest: b.digest, blob }, policy);
}

/** The bytes the diff reads: prompts, tool schemas and memory schemas that differ. */
async function fetchBlobs(store: ReleaseStore, a: ResolvedRelease, b: ResolvedRelease): Promise<Map<Digest, Uint8Array>> {
  const byDigest = new Map<Digest, Component>();
  for (const c of [...a.manifest.components, ...b.manifest.components]) byDigest.set(c.digest, c);
  const out = new Map<Digest, Uint8Array>();
  for (const d of blobsNeededForDiff(a.manifest, b.manifest)) out.set(d, await store.getComponentBytes(byDigest.get(d)!));
  return out;
}
