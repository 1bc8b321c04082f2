/**
 * Property: any single-byte change in any component file changes that component's digest and
 * the release digest (and nothing else), the old signature no longer covers it, and the same
 * change made to a stored blob makes `release verify` fail, naming the component.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { digestHex, generateSigningKey, signEnvelope, verifyEnvelope, type DsseEnvelope, type KeyPairPem } from '@sluice/core';
import { collectRelease, type CollectedRelease } from './build.js';
import { ReleaseStore } from './store.js';
import { scaffoldAgent, tempDir } from './testing.js';
import { verifyRelease } from './verify.js';

const FILES = [
  { path: 'prompts/system.md', component: 'prompt/system', json: false },
  { path: 'prompts/triage.md', component: 'prompt/triage', json: false },
  { path: 'tools/lookup_order.json', component: 'tool/lookup_order', json: true },
  { path: 'tools/issue_refund.json', component: 'tool/issue_refund', json: true },
  { path: 'memory/session.schema.json', component: 'memory/memory', json: true },
  { path: 'src/agent.ts', component: 'orchestration/orchestration', json: false },
] as const;

let root: string;
let cleanup: () => Promise<void>;
let dir: string;
let base: CollectedRelease;
let store: ReleaseStore;
let key: KeyPairPem;
let envelope: DsseEnvelope;
const original = new Map<string, Buffer>();

before(async () => {
  ({ dir: root, cleanup } = await tempDir('sluice-tamper-'));
  dir = join(root, 'agent');
  await scaffoldAgent(dir);
  for (const f of FILES) original.set(f.path, await readFile(join(dir, f.path)));
  base = await collectRelease(dir);
  store = ReleaseStore.open(join(root, 'store'));
  await store.putRelease(base.manifest, base.blobs);
  key = generateSigningKey();
  envelope = signEnvelope(base.manifestBytes, key.privateKeyPem);
  await store.putSignature(base.digest, envelope);
  await verifyRelease(store, base.ref, [key.publicKeyPem]);
});
after(() => cleanup());

const digestsByName = (r: CollectedRelease) => new Map(r.manifest.components.map((c) => [`${c.kind}/${c.name}`, c.digest]));

/** Positions a change may touch while the file stays valid: anywhere in text, inside title/description strings in JSON Schemas. */
function editable(bytes: Buffer, json: boolean): number[] {
  if (!json) return Array.from({ length: bytes.length }, (_, i) => i);
  const text = bytes.toString('latin1');
  const out: number[] = [];
  for (const m of text.matchAll(/"(?:title|description)": "([^"\\]*)"/g)) {
    const start = m.index! + m[0].length - 1 - m[1]!.length;
    for (let i = 0; i < m[1]!.length; i++) out.push(start + i);
  }
  return out;
}

const SAFE = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,');

describe('single-byte changes', () => {
  it('change exactly that component digest and the release digest, and break the old signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.nat(), fc.integer({ min: 1, max: 255 }), async (file, at, delta) => {
        const bytes = Buffer.from(original.get(file.path)!);
        const positions = editable(bytes, file.json);
        const pos = positions[at % positions.length]!;
        if (file.json) {
          const i = SAFE.indexOf(bytes[pos]!);
          bytes[pos] = SAFE[(Math.max(i, 0) + 1 + (delta % (SAFE.length - 1))) % SAFE.length]!;
        } else bytes[pos] = (bytes[pos]! + delta) % 256;
        assert.notDeepEqual(bytes, original.get(file.path));
        await writeFile(join(dir, file.path), bytes);
        try {
          const changed = await collectRelease(dir);
          assert.notEqual(changed.digest, base.digest);
          const before = digestsByName(base);
          for (const [name, d] of digestsByName(changed)) {
            if (name === file.component) assert.notEqual(d, before.get(name), name);
            else assert.equal(d, before.get(name), name);
          }
          const v = verifyEnvelope(envelope, changed.digest, [key.publicKeyPem]);
          assert.equal(v.ok, false);
          assert.equal(v.failure, 'payload-mismatch');
        } finally {
          await writeFile(join(dir, file.path), original.get(file.path)!);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('to a stored blob make verify fail, naming the component', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FILES), fc.nat(), fc.integer({ min: 1, max: 255 }), async (file, at, delta) => {
        const [kind, name] = file.component.split('/');
        const c = base.manifest.components.find((x) => x.kind === kind && x.name === name)!;
        const path = join(root, 'store', 'blobs', 'sha256', digestHex(c.digest));
        const stored = await readFile(path);
        const bytes = Buffer.from(stored);
        bytes[at % bytes.length] = (bytes[at % bytes.length]! + delta) % 256;
        await writeFile(path, bytes);
        try {
          await assert.rejects(verifyRelease(store, base.ref, [key.publicKeyPem]), (err: Error & { kind?: string }) => {
            assert.equal(err.kind, 'failed');
            assert.match(err.message, new RegExp(`^tampered blob: component ${file.component} no longer matches ${c.digest}`));
            return true;
          });
        } finally {
          await writeFile(path, stored);
        }
      }),
      { numRuns: 60 },
    );
    // and once restored, the release verifies again
    assert.equal((await verifyRelease(store, base.ref, [key.publicKeyPem])).ok, true);
  });
});
