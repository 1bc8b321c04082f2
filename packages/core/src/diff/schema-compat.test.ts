import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { meetsLevel, reverseLevel, schemaCompatibility, type CompatLevel } from './schema-compat.js';

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, ...extra });

describe('schema compatibility: examples', () => {
  it('an identical schema is FULL', () => {
    const s = obj({ a: { type: 'string' } }, { required: ['a'] });
    assert.deepEqual(schemaCompatibility(s, structuredClone(s)), { level: 'FULL', backward: true, forward: true, findings: [] });
  });

  it('adding an optional property to an open object is FULL; to a closed one, BACKWARD only', () => {
    const open = schemaCompatibility(obj({ a: { type: 'string' } }), obj({ a: { type: 'string' }, b: { type: 'number' } }));
    assert.equal(open.level, 'FULL');
    const closed = schemaCompatibility(
      obj({ a: { type: 'string' } }, { additionalProperties: false }),
      obj({ a: { type: 'string' }, b: { type: 'number' } }, { additionalProperties: false }),
    );
    assert.equal(closed.level, 'BACKWARD');
    assert.match(closed.findings[0]!.message, /property "b" added but old readers reject undeclared properties.*at \/properties\/b/);
  });

  it("with openContent 'any' (Confluent's literal open content model), adding a property is FORWARD only", () => {
    const r = schemaCompatibility(obj({}), obj({ b: { type: 'number' } }), { openContent: 'any' });
    assert.equal(r.level, 'FORWARD');
    assert.match(r.findings[0]!.message, /old data may already carry it/);
  });

  it('a new required property breaks BACKWARD and says where', () => {
    const before = obj({ refund: obj({ amount: { type: 'number' } }, { required: ['amount'] }) });
    const after = obj({ refund: obj({ amount: { type: 'number' }, currency: { type: 'string' } }, { required: ['amount', 'currency'] }) });
    const r = schemaCompatibility(before, after);
    assert.equal(r.level, 'FORWARD');
    assert.deepEqual(r.findings, [{ breaks: 'backward', at: '/properties/refund', message: 'required property "currency" added at /properties/refund' }]);
    // And the other way round, dropping the requirement breaks FORWARD.
    const back = schemaCompatibility(after, before);
    assert.equal(back.level, 'BACKWARD');
    assert.match(back.findings.map((f) => f.message).join('\n'), /property "currency" no longer required at \/properties\/refund/);
  });

  it('enum values: removing one breaks BACKWARD, adding one breaks FORWARD', () => {
    const a = { type: 'string', enum: ['USD', 'EUR'] };
    assert.equal(schemaCompatibility(a, { type: 'string', enum: ['USD'] }).level, 'FORWARD');
    const added = schemaCompatibility(a, { type: 'string', enum: ['USD', 'EUR', 'JPY'] });
    assert.equal(added.level, 'BACKWARD');
    assert.equal(added.findings[0]!.message, 'allowed value "JPY" added at the root');
    assert.equal(schemaCompatibility({ const: 'x' }, { enum: ['x', 'y'] }).level, 'BACKWARD');
  });

  it('types: integer widens to number; a removed type breaks BACKWARD', () => {
    assert.equal(schemaCompatibility({ type: 'integer' }, { type: 'number' }).level, 'BACKWARD');
    assert.equal(schemaCompatibility({ type: 'number' }, { type: 'integer' }).level, 'FORWARD');
    assert.equal(schemaCompatibility({ type: ['string', 'null'] }, { type: 'string' }).level, 'FORWARD');
    assert.equal(schemaCompatibility({}, { type: 'string' }).level, 'FORWARD');
  });

  it('bounds: tightening breaks BACKWARD, loosening breaks FORWARD', () => {
    assert.equal(schemaCompatibility({ type: 'number', maximum: 100 }, { type: 'number', maximum: 50 }).level, 'FORWARD');
    assert.equal(schemaCompatibility({ type: 'number', minimum: 10 }, { type: 'number', minimum: 0 }).level, 'BACKWARD');
    const r = schemaCompatibility({ type: 'string' }, { type: 'string', maxLength: 8 });
    assert.equal(r.findings[0]!.message, 'maxLength 8 added at the root');
    assert.equal(schemaCompatibility({ type: 'string', pattern: '^a' }, { type: 'string', pattern: '^b' }).level, 'NONE');
  });

  it('array items are compared as nested schemas', () => {
    const r = schemaCompatibility({ type: 'array', items: obj({ id: { type: 'string' } }) }, { type: 'array', items: obj({ id: { type: 'integer' } }) });
    assert.equal(r.level, 'NONE');
    assert.ok(r.findings.every((f) => f.at === '/items/properties/id'));
  });

  it('maps (additionalProperties as a schema) are compared for every key', () => {
    const r = schemaCompatibility({ type: 'object', additionalProperties: { type: 'string' } }, { type: 'object', additionalProperties: { type: 'number' } });
    assert.equal(r.level, 'NONE');
    assert.equal(r.findings[0]!.at, '/additionalProperties');
  });

  it('a removed property of a closed object breaks BACKWARD', () => {
    const r = schemaCompatibility(obj({ a: {}, b: {} }, { additionalProperties: false }), obj({ a: {} }, { additionalProperties: false }));
    assert.equal(r.level, 'FORWARD');
  });

  it('unanalysed keywords that change make the node incompatible both ways; annotations do not count', () => {
    assert.equal(schemaCompatibility({ anyOf: [{ type: 'string' }] }, { anyOf: [{ type: 'string' }, { type: 'null' }] }).level, 'NONE');
    assert.equal(schemaCompatibility({ type: 'string', description: 'old' }, { type: 'string', description: 'new', title: 'x' }).level, 'FULL');
    // Unchanged unknown keywords elsewhere do not taint a compatible change.
    assert.equal(schemaCompatibility(obj({ a: { anyOf: [{ type: 'string' }] } }), obj({ a: { anyOf: [{ type: 'string' }] }, b: {} })).level, 'FULL');
  });

  it('boolean schemas', () => {
    assert.equal(schemaCompatibility(true, false).level, 'FORWARD');
    assert.equal(schemaCompatibility(false, { type: 'string' }).level, 'BACKWARD');
    assert.equal(schemaCompatibility(true, {}).level, 'FULL');
  });

  it('levels: meetsLevel and reverseLevel', () => {
    assert.ok(meetsLevel('FULL', 'BACKWARD'));
    assert.ok(!meetsLevel('FORWARD', 'BACKWARD'));
    assert.ok(meetsLevel('NONE', 'NONE'));
    assert.ok(!meetsLevel('BACKWARD', 'FULL'));
    const all: CompatLevel[] = ['NONE', 'BACKWARD', 'FORWARD', 'FULL'];
    for (const l of all) assert.equal(reverseLevel(reverseLevel(l)), l);
  });
});

// Small schemas over a small vocabulary, so random pairs overlap and random values often validate.
const NAMES = ['a', 'b', 'c'];
const SCALARS = [0, 1, 2.5, -3, 'x', 'y', '', true, false, null];
const scalarSchema = fc.oneof(
  fc.constant({}),
  fc.record({ type: fc.constantFrom('string', 'integer', 'number', 'boolean', 'null') }),
  fc.record({ type: fc.constantFrom(['string', 'null'], ['integer', 'string']) }),
  fc.record({ enum: fc.uniqueArray(fc.constantFrom(...SCALARS), { minLength: 1, maxLength: 4 }) }),
  fc.record({ const: fc.constantFrom(...SCALARS) }),
  fc.record({ type: fc.constant('number'), minimum: fc.integer({ min: -2, max: 2 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('number'), maximum: fc.integer({ min: -2, max: 2 }) }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('string'), maxLength: fc.integer({ min: 0, max: 2 }) }, { requiredKeys: ['type'] }),
);
const { schema } = fc.letrec<{ schema: unknown; object: unknown; array: unknown }>((tie) => ({
  schema: fc.oneof({ maxDepth: 3, depthIdentifier: 'schema' }, scalarSchema, tie('object'), tie('array')),
  object: fc.record(
    {
      type: fc.constant('object'),
      properties: fc.dictionary(fc.constantFrom(...NAMES), tie('schema'), { maxKeys: 3 }),
      required: fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 2 }),
      additionalProperties: fc.oneof(fc.constant(false), fc.constant(true), fc.record({ type: fc.constantFrom('string', 'integer') })),
    },
    { requiredKeys: ['type'] },
  ),
  array: fc.record({ type: fc.constant('array'), items: tie('schema') }, { requiredKeys: ['type'] }),
}));
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'value' },
    fc.constantFrom(...SCALARS),
    fc.dictionary(fc.constantFrom(...NAMES, 'z'), tie('value'), { maxKeys: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
}));

describe('schema compatibility: properties', () => {
  it('every schema is FULL-compatible with itself', () => {
    fc.assert(fc.property(schema, (s) => schemaCompatibility(s, structuredClone(s)).level === 'FULL'));
  });

  it('swapping old and new swaps BACKWARD and FORWARD', () => {
    fc.assert(
      fc.property(schema, schema, fc.constantFrom('declared' as const, 'any' as const), (a, b, openContent) => {
        const ab = schemaCompatibility(a, b, { openContent });
        const ba = schemaCompatibility(b, a, { openContent });
        assert.equal(ab.backward, ba.forward);
        assert.equal(ab.forward, ba.backward);
        assert.equal(ab.level, reverseLevel(ba.level));
      }),
      { numRuns: 300 },
    );
  });

  it('adding an optional property to an open object is FULL, whatever its schema', () => {
    fc.assert(
      fc.property(schema, schema, (existing, added) => {
        const before = { type: 'object', properties: { a: existing } };
        const after = { type: 'object', properties: { a: existing, b: added } };
        assert.equal(schemaCompatibility(before, after).level, 'FULL');
      }),
    );
  });

  // The claims are checked against a real validator: under the literal reading of JSON Schema
  // (openContent 'any'), a BACKWARD verdict means every value the old schema accepts, the new
  // one accepts too; FORWARD the reverse. A wrong "compatible" would show up here.
  it('BACKWARD and FORWARD verdicts agree with ajv on random values', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    fc.assert(
      fc.property(schema, schema, fc.array(value, { minLength: 20, maxLength: 20 }), (a, b, values) => {
        const r = schemaCompatibility(a, b, { openContent: 'any' });
        const va = ajv.compile(a as object);
        const vb = ajv.compile(b as object);
        for (const v of values) {
          if (r.backward && va(v)) assert.ok(vb(v), `claimed BACKWARD but ${JSON.stringify(v)} fails the new schema`);
          if (r.forward && vb(v)) assert.ok(va(v), `claimed FORWARD but ${JSON.stringify(v)} fails the old schema`);
        }
      }),
      { numRuns: 400 },
    );
  });
});
