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
  /** counts[k] holds bucket index k + offset; dense, because the bench touches it millions of times */
  private counts = new Float64Array(0);
  private offset = 0;
  /** lowest and highest non-empty bucket index (lo > hi when there is none) */
  private lo = Infinity;
  private hi = -Infinity;
  private zero = 0;
  private total = 0;

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.zero = data.zero;
    h.total = data.zero;
    for (const [i, c] of data.bins) h.bump(i, c);
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

  private bump(i: number, c: number): void {
    if (!(c > 0)) return;
    if (this.counts.length === 0) {
      this.counts = new Float64Array(64);
      this.offset = i - 32;
    } else if (i < this.offset || i >= this.offset + this.counts.length) {
      const lo = Math.min(i, this.offset);
      const hi = Math.max(i + 1, this.offset + this.counts.length);
      const span = hi - lo;
      const grown = new Float64Array(span * 2);
      const newOffset = lo - Math.floor(span / 2);
      grown.set(this.counts, this.offset - newOffset);
      this.counts = grown;
      this.offset = newOffset;
    }
    this.counts[i - this.offset]! += c;
    this.total += c;
    if (i < this.lo) this.lo = i;
    if (i > this.hi) this.hi = i;
  }

  add(value: number, count = 1): this {
    if (!(count > 0)) return this;
    if (!(value > MIN_VALUE)) {
      this.zero += count;
      this.total += count;
      return this;
    }
    // `| 0` turns the -0 that ceil gives just below 1 into 0, so equal histograms serialize equally.
    this.bump(Math.ceil(Math.log(value) / LOG_GAMMA) | 0, count);
    return this;
  }

  /** Adds `other`'s counts into this histogram. */
  merge(other: Histogram | HistogramData): this {
    const o = other instanceof Histogram ? other : Histogram.from(other);
    this.zero += o.zero;
    this.total += o.zero;
    for (let i = o.lo; i <= o.hi; i++) this.bump(i, o.counts[i - o.offset]!);
    return this;
  }

  private static value(i: number): number {
    return (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
  }

  /**
   * The q-quantile (lower, rank ⌊q·(n−1)⌋ of the sorted observations), as the bucket's
   * representative value 2γ^i/(γ+1), within 1% of the observation at that rank. NaN when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.total - 1));
    if (rank < this.zero) return 0;
    if (rank >= this.total / 2) {
      // high quantiles (p95, p99): walk down from the top, which touches few buckets
      let seen = this.total;
      for (let i = this.hi; i >= this.lo; i--) {
        seen -= this.counts[i - this.offset]!;
        if (rank >= seen) return Histogram.value(i);
      }
      return 0;
    }
    let seen = this.zero;
    for (let i = this.lo; i <= this.hi; i++) {
      seen += this.counts[i - this.offset]!;
      if (rank < seen) return Histogram.value(i);
    }
    return Histogram.value(this.hi);
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
    let above = 0;
    for (let i = this.hi; i > home && i >= this.lo; i--) above += this.counts[i - this.offset]!;
    if (home >= this.lo && home <= this.hi) above += this.counts[home - this.offset]! * (home - pos);
    return above;
  }

  toJSON(): HistogramData {
    const bins: [number, number][] = [];
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.counts[i - this.offset]!;
      if (c > 0) bins.push([i, c]);
    }
    return { zero: this.zero, bins };
  }
}
