import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalize } from './canonical-json.js';
import { digestOfJson, sha256 } from './digest.js';

// Rebuild an object with its keys inserted in a shuffled order, recursively.
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const order = keys.map((k, i) => ({ k, r: Math.sin(seed * 9301 + i * 49297) })).sort((a, b) => a.r - b.r);
    const out: Record<string, unknown> = {};
    for (const { k } of order) out[k] = shuffleKeys((value as Record<string, unknown>)[k], seed + 1);
    return out;
  }
  return value;
}

describe('canonical JSON (RFC 8785)', () => {
  it('matches the RFC 8785 examples', () => {
    // RFC 8785 section 3.2.2: number serialization and key sorting by UTF-16 code units.
    assert.equal(
      canonicalize({ numbers: [333333333.3333333 /* the RFC writes 333333333.33333329: the same double */, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], literals: [null, true, false] }),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}',
    );
    assert.equal(canonicalize({ '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' }),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
    assert.equal(canonicalize(-0), '0');
  });

  it('rejects what JSON cannot carry, naming where', () => {
    assert.throws(() => canonicalize({ a: [1, Number.NaN] }), /\$\.a\[1\]/);
    assert.throws(() => canonicalize({ s: '\ud800' }), /lone surrogate/);
  });

  it('is independent of key order and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (v, seed) => {
        const c = canonicalize(v);
        assert.equal(canonicalize(shuffleKeys(v, seed)), c);
        assert.equal(canonicalize(JSON.parse(c)), c);
        assert.equal(digestOfJson(shuffleKeys(v, seed)), sha256(c));
      }),
    );
  });

  it('gives different digests to different values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(canonicalize(a) !== canonicalize(b));
        assert.notEqual(digestOfJson(a), digestOfJson(b));
      }),
    );
  });
});
