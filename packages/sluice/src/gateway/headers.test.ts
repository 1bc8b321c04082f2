import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baggageFor, scanHeaders, sessionCookie, traceparentFor } from './headers.js';
import { UsageSniffer } from './usage.js';

test('scanHeaders picks routing inputs, drops what clients may not set, keeps the rest in order', () => {
  const h = scanHeaders(
    ['Host', 'a.example', 'Sluice-Session', 's1', 'SLUICE-COHORT', 'canary', 'X-Agent', 'b', 'Accept', '*/*', 'Connection', 'keep-alive', 'sluice-user', 'u1', 'Content-Length', '3', 'Baggage', 'k=v'],
    new Set(['x-agent']),
  );
  assert.equal(h.host, 'a.example');
  assert.equal(h.session, 's1');
  assert.equal(h.user, 'u1');
  assert.equal(h.hasBody, true);
  assert.equal(h.baggage, 'k=v');
  assert.equal(h.matched?.get('x-agent'), 'b');
  assert.deepEqual(h.out, ['X-Agent', 'b', 'Accept', '*/*', 'sluice-user', 'u1', 'Content-Length', '3']);
  assert.equal(scanHeaders(['content-length', '0'], undefined).hasBody, false);
});

test('sessionCookie finds sluice_session only as a whole cookie name', () => {
  assert.equal(sessionCookie('a=1; sluice_session=abc; b=2'), 'abc');
  assert.equal(sessionCookie('sluice_session=xyz'), 'xyz');
  assert.equal(sessionCookie('xsluice_session=no'), undefined);
  assert.equal(sessionCookie('sluice_session='), undefined);
  assert.equal(sessionCookie(undefined), undefined);
});

test('traceparent: a valid one is kept, invalid or all-zero ones are replaced', () => {
  const ok = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.equal(traceparentFor(ok), ok);
  for (const bad of [undefined, 'x', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', ok.toUpperCase()]) {
    const t = traceparentFor(bad);
    assert.match(t, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.notEqual(t, bad);
  }
  assert.notEqual(traceparentFor(undefined), traceparentFor(undefined));
});

test('baggage: client sluice.* members are dropped, others kept before ours', () => {
  const ours = 'sluice.release=a%401,sluice.cohort=baseline';
  assert.equal(baggageFor(undefined, ours), ours);
  assert.equal(baggageFor('team=x', ours), `team=x,${ours}`);
  assert.equal(baggageFor('sluice.cohort=canary, team=x,sluice.release=evil', ours), ` team=x,${ours}`);
  assert.equal(baggageFor('sluice.cohort=canary', ours), ours);
});

test('usage sniffer: JSON bodies, the last SSE event with usage, Responses API nesting, and nothing for other types', () => {
  const json = UsageSniffer.for('application/json; charset=utf-8');
  json?.push(Buffer.from('{"usage":{"input_tokens":3,'));
  json?.push(Buffer.from('"output_tokens":4}}'));
  assert.deepEqual(json?.usage(), { inputTokens: 3, outputTokens: 4, totalTokens: 7 });
  const sse = UsageSniffer.for('text/event-stream');
  for (let i = 0; i < 2000; i++) sse?.push(Buffer.from(`data: {"delta":"${'x'.repeat(20)}"}\n\n`));
  sse?.push(Buffer.from('event: response.completed\ndata: {"response":{"usage":{"input_tokens":9,"output_tokens":1,"total_tokens":10}}}\n\n'));
  assert.deepEqual(sse?.usage(), { inputTokens: 9, outputTokens: 1, totalTokens: 10 });
  assert.equal(UsageSniffer.for('text/plain'), undefined);
  const none = UsageSniffer.for('application/json');
  none?.push(Buffer.from('{"ok":true}'));
  assert.equal(none?.usage(), undefined);
});
