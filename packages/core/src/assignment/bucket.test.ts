import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { assignNew, bucket, BUCKETS } from './bucket.js';

test('bucket matches the BigInt reading of the first 8 bytes of SHA-256(rollout:unit)', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (r, u) => {
      const digest = createHash('sha256').update(`${r}:${u}`).digest();
      const expected = Number(digest.readBigUInt64BE(0) % BigInt(BUCKETS));
      assert.equal(bucket(r, u), expected);
    }),
    { numRuns: 2000 },
  );
});

test('bucket is in [0, 10000)', () => {
  fc.assert(fc.property(fc.string(), fc.string(), (r, u) => {
    const b = bucket(r, u);
    return Number.isInteger(b) && b >= 0 && b < BUCKETS;
  }));
});

test('assignNew is monotone in the weight: canary at w stays canary at any w2 > w', () => {
  fc.assert(
    fc.property(fc.string(), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (u, a, b) => {
      const [w1, w2] = a <= b ? [a, b] : [b, a];
      const k = bucket('r1', u);
      if (assignNew(k, w1) === 'canary') assert.equal(assignNew(k, w2), 'canary');
    }),
  );
});

test('share of units on the canary is close to the weight', () => {
  const n = 20_000;
  for (const w of [1, 5, 25, 50, 90]) {
    let canary = 0;
    for (let i = 0; i < n; i++) if (assignNew(bucket('share-test', `unit-${i}`), w) === 'canary') canary++;
    const p = w / 100;
    // 4 standard errors of a binomial proportion: fails by chance about once in 16,000 runs.
    const bound = 4 * Math.sqrt((p * (1 - p)) / n);
    assert.ok(Math.abs(canary / n - p) <= bound, `weight ${w}: share ${canary / n} outside ${p} ± ${bound}`);
  }
});

test('weights 0 and 100 send everyone to one side', () => {
  fc.assert(fc.property(fc.string(), (u) => {
    const k = bucket('edge', u);
    return assignNew(k, 0) === 'baseline' && assignNew(k, 100) === 'canary';
  }));
});
