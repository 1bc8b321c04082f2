import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sha256 } from '../canonical/digest.js';
import { treeArchive, type TreeEntry } from './tree.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** Read back (name, type, mode, size, mtime, uid, body) of every entry, honouring PAX path records. */
function readTar(tar: Uint8Array): Array<{ name: string; type: string; mode: number; size: number; mtime: number; uid: number; body: string; link: string }> {
  const b = Buffer.from(tar);
  const out = [];
  let off = 0;
  let paxPath: string | undefined;
  while (off < b.length && b[off] !== 0) {
    const h = b.subarray(off, off + 512);
    const field = (s: number, n: number) => h.subarray(s, s + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12), 8);
    const type = field(156, 1);
    // checksum: sum of header bytes with the checksum field as spaces
    const sum = [...h].reduce((a, x, i) => a + (i >= 148 && i < 156 ? 32 : x), 0);
    assert.equal(parseInt(field(148, 8), 8), sum);
    const body = b.subarray(off + 512, off + 512 + size).toString('utf8');
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /\d+ path=(.*)\n/.exec(body);
      const len = Number(body.split(' ')[0]);
      assert.equal(Buffer.byteLength(body.split('\n')[0]! + '\n'), len);
      paxPath = m?.[1];
      continue;
    }
    out.push({ name: paxPath ?? field(0, 100), type, mode: parseInt(field(100, 8), 8), size, mtime: parseInt(field(136, 12), 8), uid: parseInt(field(108, 8), 8), body, link: field(157, 100) });
    paxPath = undefined;
  }
  return out;
}

describe('deterministic tree archive', () => {
  it('sorts entries, normalizes modes and zeroes times and owners', () => {
    const tar = treeArchive([
      { type: 'file', path: 'lib/b.ts', bytes: enc('b') },
      { type: 'file', path: 'run.sh', bytes: enc('#!/bin/sh\n'), executable: true },
      { type: 'dir', path: 'lib' },
      { type: 'file', path: 'lib-x.ts', bytes: enc('x') },
      { type: 'symlink', path: 'current', target: 'lib/b.ts' },
    ]);
    const entries = readTar(tar);
    assert.deepEqual(entries.map((e) => e.name), ['current', 'lib-x.ts', 'lib/', 'lib/b.ts', 'run.sh']);
    assert.deepEqual(entries.map((e) => e.mode.toString(8)), ['777', '644', '755', '644', '755']);
    assert.ok(entries.every((e) => e.mtime === 0 && e.uid === 0));
    assert.equal(entries[0]!.link, 'lib/b.ts');
    assert.equal(entries[3]!.body, 'b');
    assert.equal(tar.byteLength % 512, 0);
  });

  it('carries names longer than 100 bytes in PAX records', () => {
    for (const n of [95, 99, 100, 101, 150, 300]) {
      const path = `d/${'x'.repeat(n)}`;
      const [entry] = readTar(treeArchive([{ type: 'file', path, bytes: enc('1') }]));
      assert.equal(entry!.name, path);
    }
  });

  it('does not depend on the order entries are found in', () => {
    const entry = fc.record({ path: fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{1,6}){0,2}$/), body: fc.string() });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 8 }), fc.integer(), (files, seed) => {
        // keep only files whose path is not a prefix-folder of another
        const ok = files.filter((f) => !files.some((g) => g.path.startsWith(`${f.path}/`)));
        const entries: TreeEntry[] = ok.map((f) => ({ type: 'file', path: f.path, bytes: enc(f.body) }));
        const shuffled = [...entries].sort((a, b) => (((a.path.length * 31 + seed) % 7) - ((b.path.length * 31 + seed) % 7)));
        assert.equal(sha256(treeArchive(shuffled)), sha256(treeArchive(entries)));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses unclean paths and duplicates', () => {
    assert.throws(() => treeArchive([{ type: 'file', path: '../x', bytes: enc('') }]), /not a clean relative path/);
    assert.throws(() => treeArchive([{ type: 'file', path: '/x', bytes: enc('') }]), /not a clean relative path/);
    assert.throws(() => treeArchive([{ type: 'file', path: 'x', bytes: enc('') }, { type: 'file', path: 'x', bytes: enc('1') }]), /two entries/);
  });
});
