import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError } from '@sluice/core';
import { formatRemoteReference, isLoopbackRegistry, parseRemoteReference } from './reference.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('parses host[:port]/path with a tag or a digest, and formats it back', () => {
  for (const input of [
    'registry.example.com/agents/support:2.3.1',
    '127.0.0.1:5000/support',
    'localhost/a/b/c:v1_x-2.0',
    `[::1]:5000/agents/support@${DIGEST}`,
    `ghcr.io/acme/support:latest@${DIGEST}`,
  ]) {
    assert.equal(formatRemoteReference(parseRemoteReference(input)), input);
  }
  assert.deepEqual(parseRemoteReference('127.0.0.1:5000/agents/support:2.3.1'), {
    registry: '127.0.0.1:5000',
    repository: 'agents/support',
    tag: '2.3.1',
  });
});

test('rejects references without a registry host or with bad parts, naming the field', () => {
  for (const input of ['support:1', 'agents/support:1', '127.0.0.1:5000/', '127.0.0.1:5000/Agents:1', 'h.io/a:bad tag', 'h.io/a@sha256:12']) {
    assert.throws(
      () => parseRemoteReference(input, 'target'),
      (e: unknown) => isSluiceError(e) && e.kind === 'invalid' && e.message.startsWith('target: ') && e.message.includes(JSON.stringify(input)),
      input,
    );
  }
});

test('only loopback hosts count as loopback', () => {
  assert.ok(isLoopbackRegistry('127.0.0.1:5000'));
  assert.ok(isLoopbackRegistry('127.8.9.10'));
  assert.ok(isLoopbackRegistry('localhost:5000'));
  assert.ok(isLoopbackRegistry('[::1]:5000'));
  assert.ok(isLoopbackRegistry('[::ffff:127.0.0.1]:5000'));
  assert.ok(!isLoopbackRegistry('[::ffff:10.0.0.1]:5000'));
  assert.ok(!isLoopbackRegistry('10.0.0.1:5000'));
  assert.ok(!isLoopbackRegistry('registry.example.com'));
  assert.ok(!isLoopbackRegistry('127.0.0.1.example.com'));
});
