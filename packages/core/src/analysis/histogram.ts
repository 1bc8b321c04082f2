/**
 * A mergeable, log-bucketed histogram for quantile metrics (latency, time to first byte).
 *
 * Bucket i holds values in (γ^(i-1), γ^i] with γ = (1+a)/(1-a) and a = 1%: any quantile read back
 * is within 1% of a value actually observed at that rank (the DDSketch construction, Masson,
 * Rim & Lee, VLDB 2019). Two histograms always share γ, so merging is adding counts: the
 * aggregator can keep one per gateway and per window and sum them. Values ≤ 1e-9 (and negative
 * values, which no built-in metric produces) fall into a zero bucket.
 */
export const HISTOGRAM_RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + HISTOGRAM_RELATIVE_ACCURACY) / (1 - HISTOGRAM_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MIN_VALUE = 1e-9;

/** JSON form of a histogram: counts per bucket index, sorted by index. */
export interface HistogramData {
  /** Observations ≤ 1e-9. */
  zero: number;
  /** [bucket index, count] pairs; bucket i holds (γ^(i-1), γ^i]. */
  bins: [number, number][];
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  private zero = 0;
  private total = 0;
  private sorted: number[] | undefined;

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.zero = data.zero;
    h.total = data.zero;
    for (const [i, c] of data.bins) {
      h.counts.set(i, (h.counts.get(i) ?? 0) + c);
      h.total += c;
    }
    return h;
  }

  static of(values: Iterable<number>): Histogram {
    const h = new Histogram();
    for (const v of values) h.add(v);
    return h;
  }

  get count(): number {
    return this.total;
  }

  add(value: number, count = 1): this {
    if (!(count > 0)) return this;
    this.total += count;
    if (!(value > MIN_VALUE)) {
      this.zero += count;
      return this;
    }
    const i = Math.ceil(Math.log(value) / LOG_GAMMA);
    const c = this.counts.get(i);
    if (c === undefined) this.sorted = undefined;
    this.counts.set(i, (c ?? 0) + count);
    return this;
  }

  /** Adds `other`'s counts into this histogram. */
  merge(other: Histogram | HistogramData): this {
    const o = other instanceof Histogram ? other : Histogram.from(other);
    this.zero += o.zero;
    this.total += o.total;
    for (const [i, c] of o.counts) {
      if (!this.counts.has(i)) this.sorted = undefined;
      this.counts.set(i, (this.counts.get(i) ?? 0) + c);
    }
    return this;
  }

  private indices(): number[] {
    this.sorted ??= [...this.counts.keys()].sort((a, b) => a - b);
    return this.sorted;
  }

  /**
   * The q-quantile (lower, rank ⌊q·(n−1)⌋ of the sorted observations), as the bucket's
   * representative value 2γ^i/(γ+1), within 1% of the observation at that rank. NaN when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.total - 1));
    const idx = this.indices();
    if (rank >= this.total / 2 && idx.length > 0) {
      // high quantiles (p95, p99): walk down from the top, which touches few buckets
      let seen = this.total;
      for (let k = idx.length - 1; k >= 0; k--) {
        const i = idx[k]!;
        seen -= this.counts.get(i)!;
        if (rank >= seen) return (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
      }
      return 0;
    }
    let seen = this.zero;
    if (rank < seen) return 0;
    for (const i of idx) {
      seen += this.counts.get(i)!;
      if (rank < seen) return (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
    }
    return (2 * Math.pow(GAMMA, idx[idx.length - 1]!)) / (GAMMA + 1);
  }

  /**
   * Observations above `threshold`. Buckets wholly above count in full; the bucket holding the
   * threshold counts by the share of its log-range above it (values assumed log-uniform within
   * a bucket), so the result may be fractional.
   */
  countAbove(threshold: number): number {
    if (!(threshold > MIN_VALUE)) return threshold < 0 ? this.total : this.total - this.zero;
    const pos = Math.log(threshold) / LOG_GAMMA; // threshold sits in bucket ceil(pos)
    const home = Math.ceil(pos);
    const idx = this.indices();
    let above = 0;
    for (let k = idx.length - 1; k >= 0; k--) {
      const i = idx[k]!;
      if (i < home) break;
      const c = this.counts.get(i)!;
      above += i > home ? c : c * (home - pos);
    }
    return above;
  }

  toJSON(): HistogramData {
    return { zero: this.zero, bins: this.indices().map((i) => [i, this.counts.get(i)!] as [number, number]) };
  }
}
