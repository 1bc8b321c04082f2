import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrainReporter } from './drain-reporter.js';
import { DrainTracker } from './drains.js';

test('reports each change of a drain once, 0 only when settled, and retries after a failure', async () => {
  let now = 1_000;
  const drains = new DrainTracker(() => now);
  const sent: Array<[string, number]> = [];
  let fail = false;
  const reporter = new DrainReporter({
    drains: () => drains.status(),
    report: async (rollout, inFlight) => {
      if (fail) throw new Error('control plane down');
      sent.push([rollout, inFlight]);
    },
  });

  drains.rolledBack('ro-1', 'support-agent', 'drain', 60_000);
  drains.rolledBack('ro-hard', 'support-agent', 'hard', 60_000);
  await reporter.once();
  assert.deepEqual(sent, [], 'no session seen and the TTL not over: nothing to vouch for yet');

  drains.start('ro-1', 's1');
  drains.start('ro-1', 's2');
  await reporter.once();
  await reporter.once();
  assert.deepEqual(sent, [['ro-1', 2]], 'one report per change, none for hard rollbacks');

  drains.finish('ro-1');
  drains.finish('ro-1');
  fail = true;
  now += 61_000; // both sessions go idle
  await reporter.once();
  assert.deepEqual(sent, [['ro-1', 2]]);
  fail = false;
  await reporter.once();
  assert.deepEqual(sent, [['ro-1', 2], ['ro-1', 0]], 'the failed report is sent again');
});

test('a gateway that saw no draining session settles after one idle TTL', async () => {
  let now = 0;
  const drains = new DrainTracker(() => now);
  const sent: number[] = [];
  const reporter = new DrainReporter({ drains: () => drains.status(), report: async (_r, n) => void sent.push(n) });
  drains.rolledBack('ro-2', 'a', 'drain', 30_000);
  now = 29_999;
  await reporter.once();
  assert.deepEqual(sent, []);
  now = 30_000;
  await reporter.once();
  assert.deepEqual(sent, [0]);
});
