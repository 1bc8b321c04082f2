import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProportionSample } from '@sluice/core';
import { Measurements } from '../gateway/measurements.js';
import { createAnalysisService } from './service.js';

test("the gateway's measurements reach the aggregator through Measurements.subscribe", async () => {
  const service = await createAnalysisService({ aggregator: { sessionIdleMs: 0 } });
  service.aggregator.track([
    { id: 'ro-9', agent: 'support-agent', strategy: 'canary', baseline: { release: 'support-agent@1.0.0' }, candidate: { release: 'support-agent@1.1.0' } },
  ]);
  const measurements = new Measurements();
  const unsubscribe = measurements.subscribe(service.onGatewayEvent);
  const series = measurements.seriesFor('support-agent', 'support-agent@1.1.0', 'canary');
  const base = { agent: 'support-agent', rollout: 'ro-9', release: 'support-agent@1.1.0', digest: `sha256:${'b'.repeat(64)}`, cohort: 'canary' as const, unit: 'u1', latencyMs: 120, ttfbMs: 30, bytes: 512 };
  measurements.record(series, { ...base, at: Date.now(), status: 200, outcome: 'escalated', usage: { inputTokens: 10, outputTokens: 5 } });
  measurements.record(series, { ...base, at: Date.now(), status: 504, error: 'timeout' });
  unsubscribe();
  measurements.record(series, { ...base, at: Date.now(), status: 500 });
  const w = service.aggregator.flush('ro-9', { step: 0, weight: 20 })!;
  const errors = w.window.canary.metrics.error_rate as ProportionSample;
  assert.deepEqual([errors.n, errors.x], [2, 1]);
  assert.equal((w.window.canary.metrics.escalation_rate as ProportionSample).x, 1);
  assert.equal(w.window.canary.sessions, 1);
});
