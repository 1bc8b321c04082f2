/**
 * A small Prometheus text-format registry: counters, gauges and histograms with labels. The
 * control plane needs a handful of series, not a client library's worth of machinery.
 */
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract lines(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.lines()].join('\n');
  }
}

export class Counter extends Metric {
  private values = new Map<string, number>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge extends Metric {
  private values = new Map<string, number>();
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(labels: Labels, v: number): void {
    this.values.set(key(labels), v);
  }
  reset(): void {
    this.values.clear();
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Histogram extends Metric {
  private series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    name: string,
    help: string,
    readonly bounds: number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(labels: Labels, v: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    this.bounds.forEach((b, i) => {
      if (v <= b) s.buckets[i]! += 1;
    });
    s.sum += v;
    s.count += 1;
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.bounds.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private metrics: Metric[] = [];
  /** Refreshers run before each scrape, for gauges read from the store. */
  private collectors: Array<() => Promise<void>> = [];
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  onCollect(fn: () => Promise<void>): void {
    this.collectors.push(fn);
  }
  async render(): Promise<string> {
    for (const c of this.collectors) await c().catch(() => {});
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

export interface ControlMetrics {
  registry: Registry;
  requests: Counter;
  requestSeconds: Histogram;
  storeSeconds: Histogram;
  storeErrors: Counter;
  rollouts: Gauge;
  ticks: Counter;
}

export function createControlMetrics(registry = new Registry()): ControlMetrics {
  return {
    registry,
    requests: registry.register(new Counter('sluice_http_requests_total', 'HTTP requests to the control API by route and status')),
    requestSeconds: registry.register(
      new Histogram('sluice_http_request_duration_seconds', 'Control API request latency by route', [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]),
    ),
    storeSeconds: registry.register(
      new Histogram('sluice_store_query_duration_seconds', 'Store query latency', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]),
    ),
    storeErrors: registry.register(new Counter('sluice_store_errors_total', 'Store queries that failed')),
    rollouts: registry.register(new Gauge('sluice_rollouts', 'Rollouts by state')),
    ticks: registry.register(new Counter('sluice_rollout_ticks_total', 'Rollout loop ticks by outcome')),
  };
}
