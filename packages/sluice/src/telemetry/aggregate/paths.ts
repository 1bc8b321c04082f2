/**
 * Decision-path shape: per cohort, how often each tool and each consecutive pair of tool calls
 * (a bigram, `lookup_order → issue_refund`) occurs per session, and the largest differences
 * between canary and baseline. A canary that suddenly calls `issue_refund` twice as often, or
 * skips `lookup_order` before it, shows here before it shows in any outcome rate.
 */
const MAX_KEYS = 2000;
const OTHER = '(other)';

export interface PathCounts {
  sessions: number;
  tools: Record<string, { calls: number; sessions: number; errors: number }>;
  bigrams: Record<string, number>;
}

export const emptyPaths = (): PathCounts => ({ sessions: 0, tools: {}, bigrams: {} });

/** Adds one session's tool calls (in call order) to `into`. Distinct keys are capped. */
export function addSession(into: PathCounts, calls: readonly { name: string; error: boolean }[]): void {
  into.sessions++;
  const seen = new Set<string>();
  for (const c of calls) {
    const name = capped(into.tools, c.name);
    const t = (into.tools[name] ??= { calls: 0, sessions: 0, errors: 0 });
    t.calls++;
    if (c.error) t.errors++;
    if (!seen.has(name)) {
      seen.add(name);
      t.sessions++;
    }
  }
  for (let i = 1; i < calls.length; i++) {
    const key = capped(into.bigrams, `${calls[i - 1]!.name} → ${calls[i]!.name}`);
    into.bigrams[key] = (into.bigrams[key] ?? 0) + 1;
  }
}

function capped(table: Record<string, unknown>, key: string): string {
  return Object.hasOwn(table, key) || Object.keys(table).length < MAX_KEYS ? key : OTHER;
}

export function mergePaths(a: PathCounts, b: PathCounts): PathCounts {
  const out: PathCounts = { sessions: a.sessions + b.sessions, tools: {}, bigrams: { ...a.bigrams } };
  for (const src of [a.tools, b.tools])
    for (const [k, v] of Object.entries(src)) {
      const t = (out.tools[k] ??= { calls: 0, sessions: 0, errors: 0 });
      t.calls += v.calls;
      t.sessions += v.sessions;
      t.errors += v.errors;
    }
  for (const [k, v] of Object.entries(b.bigrams)) out.bigrams[k] = (out.bigrams[k] ?? 0) + v;
  return out;
}

export interface PathRow {
  kind: 'tool' | 'bigram';
  key: string;
  /** Occurrences per session. */
  baseline: number;
  canary: number;
  /** canary − baseline, per session. */
  difference: number;
  /** For tools: share of each cohort's calls to it that failed. */
  errorRate?: { baseline: number | null; canary: number | null };
}

export interface DecisionPaths {
  sessions: { baseline: number; canary: number };
  /** Every tool and bigram, largest |difference| first. */
  rows: PathRow[];
}

const perSession = (count: number, sessions: number) => (sessions > 0 ? count / sessions : 0);
const rate = (errors: number, calls: number) => (calls > 0 ? errors / calls : null);

/** The comparison table, largest absolute difference first; `limit` rows at most. */
export function comparePaths(baseline: PathCounts, canary: PathCounts, limit = 20): DecisionPaths {
  const rows: PathRow[] = [];
  for (const key of new Set([...Object.keys(baseline.tools), ...Object.keys(canary.tools)])) {
    const b = baseline.tools[key];
    const c = canary.tools[key];
    const bs = perSession(b?.calls ?? 0, baseline.sessions);
    const cs = perSession(c?.calls ?? 0, canary.sessions);
    rows.push({
      kind: 'tool',
      key,
      baseline: bs,
      canary: cs,
      difference: cs - bs,
      errorRate: { baseline: rate(b?.errors ?? 0, b?.calls ?? 0), canary: rate(c?.errors ?? 0, c?.calls ?? 0) },
    });
  }
  for (const key of new Set([...Object.keys(baseline.bigrams), ...Object.keys(canary.bigrams)])) {
    const bs = perSession(baseline.bigrams[key] ?? 0, baseline.sessions);
    const cs = perSession(canary.bigrams[key] ?? 0, canary.sessions);
    rows.push({ kind: 'bigram', key, baseline: bs, canary: cs, difference: cs - bs });
  }
  rows.sort((x, y) => Math.abs(y.difference) - Math.abs(x.difference) || x.key.localeCompare(y.key));
  return { sessions: { baseline: baseline.sessions, canary: canary.sessions }, rows: rows.slice(0, limit) };
}
