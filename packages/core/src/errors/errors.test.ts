import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES, HTTP_STATUS, errorKindForStatus, type ErrorKind } from './errors.js';

test('errorKindForStatus inverts HTTP_STATUS and reads bad-input statuses as invalid', () => {
  for (const kind of Object.keys(HTTP_STATUS) as ErrorKind[]) assert.equal(errorKindForStatus(HTTP_STATUS[kind]), kind);
  assert.equal(errorKindForStatus(413), 'invalid');
  assert.equal(errorKindForStatus(415), 'invalid');
  assert.equal(errorKindForStatus(502), 'failed');
  assert.equal(EXIT_CODES[errorKindForStatus(413)], 2);
});
