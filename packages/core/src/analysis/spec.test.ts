import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAnalysisSpec, resolveMetric, durationMs, BUILTIN_METRIC_NAMES } from './spec.js';
import { SluiceError } from '../errors/errors.js';

test('defaults are filled in and built-in metrics resolve their kind and direction', () => {
  const s = parseAnalysisSpec({ metrics: [{ name: 'escalation_rate', tolerance: { relative: 0.1 } }, { name: 'latency_p95' }, { name: 'feedback_score', dryRun: true }] });
  assert.equal(s.interval, '1m');
  assert.equal(s.alpha, 0.05);
  assert.equal(s.consecutive, 3);
  assert.equal(s.onRegression, 'rollback');
  const [esc, lat, fb] = s.metrics.map(resolveMetric);
  assert.deepEqual([esc!.kind, esc!.better, esc!.source], ['proportion', 'lower', 'escalation_rate']);
  assert.deepEqual([lat!.kind, lat!.q], ['quantile', 0.95]);
  assert.deepEqual([fb!.better, fb!.dryRun], ['higher', true]);
  assert.equal(BUILTIN_METRIC_NAMES.length, 14);
});

test('custom metrics need a source, a kind and a direction; errors name the field path', () => {
  const err = (() => {
    try {
      parseAnalysisSpec({ metrics: [{ name: 'latency_p95' }, { name: 'refund_amount' }] }, 'plan.yaml#analysis');
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof SluiceError);
  assert.equal(err.kind, 'invalid');
  const wheres = err.details.map((d) => d.where);
  assert.ok(wheres.includes('plan.yaml#analysis.metrics[1].source'), wheres.join());
  assert.ok(wheres.includes('plan.yaml#analysis.metrics[1].kind'));
  assert.ok(wheres.includes('plan.yaml#analysis.metrics[1].better'));
});

test('bad values are rejected with their path', () => {
  const bad = [
    [{ interval: 'soon', metrics: [{ name: 'error_rate' }] }, 'analysis.interval'],
    [{ alpha: 0.7, metrics: [{ name: 'error_rate' }] }, 'analysis.alpha'],
    [{ metrics: [{ name: 'error_rate', tolerance: { relative: -1 } }] }, 'analysis.metrics[0].tolerance.relative'],
    [{ metrics: [{ name: 'error_rate', slo: { max: 3 } }] }, 'analysis.metrics[0].slo'],
    [{ metrics: [{ name: 'x', source: { attribute: 'a' }, kind: 'quantile', better: 'lower' }] }, 'analysis.metrics[0].q'],
    [{ metrics: [{ name: 'error_rate' }, { name: 'error_rate' }] }, 'analysis.metrics[1].name'],
    [{ metrics: [] }, 'analysis.metrics'],
    [{ metrics: [{ name: 'error_rate', colour: 'red' }] }, 'analysis.metrics[0]'],
  ] as const;
  for (const [input, where] of bad) {
    assert.throws(
      () => parseAnalysisSpec(input),
      (e: unknown) => e instanceof SluiceError && e.details.some((d) => d.where === where),
      `expected an error at ${where}`,
    );
  }
});

test('a custom metric from a span attribute or an event parses', () => {
  const s = parseAnalysisSpec({
    metrics: [
      { name: 'refund_usd', source: { attribute: 'app.refund.usd', span: 'execute_tool' }, kind: 'mean', better: 'lower', tolerance: { absolute: 5 } },
      { name: 'csat_p10', source: { event: 'csat', field: 'score' }, kind: 'quantile', q: 0.1, better: 'higher' },
    ],
  });
  assert.deepEqual(resolveMetric(s.metrics[1]!).q, 0.1);
});

test('durations', () => {
  assert.equal(durationMs('1m'), 60_000);
  assert.equal(durationMs('250ms'), 250);
  assert.equal(durationMs('1.5h'), 5_400_000);
  assert.throws(() => durationMs('1d'), SluiceError);
});
