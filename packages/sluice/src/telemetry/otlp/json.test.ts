import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SluiceError } from '@sluice/core';
import { decodeJson } from './json.js';

test('OTLP JSON: hex ids, string 64-bit integers, nested values, snake_case spellings', () => {
  const batch = decodeJson({
    resource_spans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'support-agent' } }] },
        scope_spans: [
          {
            spans: [
              {
                trace_id: '0102030405060708090A0B0C0D0E0F10',
                span_id: '0102030405060708',
                name: 'chat',
                start_time_unix_nano: '1700000000123456789',
                end_time_unix_nano: '1700000000623456789',
                status: { code: 2 },
                attributes: [
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: '1200' } },
                  { key: 'ratio', value: { doubleValue: 0.5 } },
                  { key: 'ok', value: { boolValue: true } },
                  { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
                  { key: 'meta', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
                ],
              },
            ],
          },
        ],
      },
    ],
  });
  assert.equal(batch.rejected, 0);
  const [s] = batch.spans;
  assert.ok(s);
  assert.equal(s.traceId, '0102030405060708090a0b0c0d0e0f10');
  assert.equal(s.durationMs, 500);
  assert.equal(s.startMs, 1700000000123.4568);
  assert.equal(s.error, true);
  assert.deepEqual(s.attributes, { 'gen_ai.usage.input_tokens': 1200, ratio: 0.5, ok: true, tags: ['a', 2], meta: { k: 'v' } });
  assert.deepEqual(s.resource, { 'service.name': 'support-agent' });
});

test('OTLP JSON: a body that is not a request is refused whole, naming where', () => {
  assert.throws(() => decodeJson([]), (e: unknown) => e instanceof SluiceError && e.details[0]?.where === '/');
  assert.throws(() => decodeJson({ resourceSpans: {} }), (e: unknown) => e instanceof SluiceError && e.details[0]?.where === '/resourceSpans');
});
