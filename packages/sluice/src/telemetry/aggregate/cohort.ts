/**
 * One cohort's accumulators for one window: the sufficient statistics core `evaluate()` reads
 * (`@sluice/core` samples), kept as live objects on the hot path and turned into plain JSON
 * when the window closes.
 */
import { Histogram, observe, type CohortSample, type MeanSample, type MetricSample, type ProportionSample } from '@sluice/core';

export class CohortAccumulator {
  sessions = 0;
  private readonly proportions = new Map<string, ProportionSample>();
  private readonly means = new Map<string, MeanSample>();
  private readonly histograms = new Map<string, Histogram>();

  proportion(name: string, yes: boolean): void {
    let s = this.proportions.get(name);
    if (!s) this.proportions.set(name, (s = { kind: 'proportion', n: 0, x: 0 }));
    observe(s, yes);
  }

  mean(name: string, value: number): void {
    let s = this.means.get(name);
    if (!s) this.means.set(name, (s = { kind: 'mean', n: 0, sum: 0, sumSq: 0 }));
    observe(s, value);
  }

  quantile(name: string, value: number): void {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram()));
    h.add(value);
  }

  /**
   * Plain samples. `aliases` maps a histogram to every metric name that reads it
   * (latency_p50/p95/p99 all read the one latency histogram).
   */
  toSample(aliases: Record<string, string[]> = {}): CohortSample {
    const metrics: Record<string, MetricSample> = {};
    for (const [k, s] of this.proportions) metrics[k] = { ...s };
    for (const [k, s] of this.means) metrics[k] = { ...s };
    for (const [k, h] of this.histograms) {
      const data = h.toJSON();
      for (const name of aliases[k] ?? [k]) metrics[name] = { kind: 'quantile', histogram: data };
    }
    return { sessions: this.sessions, metrics };
  }
}
