/**
 * The analysis loop. Every tick it tells telemetry which rollouts are in play (every replica
 * does, so each one's ingest attributes spans), and — on the one replica holding the analysis
 * advisory lock — closes the evaluation window of each active rollout whose `analysis.interval`
 * has elapsed: it takes that window's samples, calls core `evaluate`, stores the result with
 * every number behind it, and feeds the verdict to the rollout through the control plane's
 * rollout service (which appends it to the event log and the audit log). A proven regression
 * rolls back (or pauses) at once; `pass` for `consecutive` windows opens the step's analysis gate.
 *
 * Only changes reach the rollout: a window that decides nothing new is stored, not sent, so the
 * event log records decisions rather than heartbeats.
 */
import { ACTIVE_STATUSES, durationMs, evaluate, parseAnalysisSpec, type AnalysisResult, type AnalysisSpec, type JsonValue } from '@sluice/core';
import type { Database, HeldLock, Queryable } from '../adapters/store/database.js';
import type { ControlMetrics } from '../control/metrics.js';
import { commandRollout, listRollouts, type RolloutRecord } from '../control/services/rollouts.js';
import type { ServerPart } from '../server/part.js';
import type { AggregatedRollout, TelemetryAggregator } from '../telemetry/aggregate/aggregator.js';
import { ANALYSIS_MIGRATIONS } from './migrations.js';
import { lastResultAt, saveResult, type StoredResult } from './results.js';
import { migrate } from '../adapters/store/migrations.js';

/** Advisory lock key of the analysis loop (control keys are 77_000_00x). */
export const ANALYSIS_LOCK_KEY = 77_000_010;
export const ANALYSIS_ACTOR = 'sluice-analysis';

export interface AnalysisLoopOptions {
  db: Database;
  aggregator: TelemetryAggregator;
  /** Called after a verdict changed a rollout (publish a new routing config). */
  onRolloutChanged?: () => void;
  metrics?: ControlMetrics;
  /** How often to look; each rollout's own `interval` decides when its window closes. */
  tickMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export interface WindowOutcome {
  rolloutId: string;
  stored: StoredResult;
}

/** The overall verdict a window's result tells the rollout. */
export function verdictOf(result: AnalysisResult): AnalysisResult['metrics'][number]['verdict'] {
  if (result.decision === 'rollback' || result.decision === 'pause') return 'fail';
  if (result.decision === 'advance') return 'pass';
  const acting = result.metrics.filter((m) => !m.dryRun);
  return acting.length > 0 && acting.every((m) => m.verdict === 'nodata') ? 'nodata' : 'inconclusive';
}

/** What the verdict event carries: enough to explain it from the log alone, small enough to audit. */
function details(result: AnalysisResult, seq: number): JsonValue {
  return {
    result: seq,
    window: result.window.index,
    decision: result.decision,
    srm: result.srm.rule,
    metrics: result.metrics.map((m) => ({
      name: m.name,
      verdict: m.verdict,
      baseline: m.estimate.baseline,
      canary: m.estimate.canary,
      n: [m.counts.cumulative.baseline.n, m.counts.cumulative.canary.n],
      interval: m.interval ? [m.interval.lower, m.interval.upper] : null,
      rule: m.rule,
    })),
  } as JsonValue;
}

export function trackedFrom(r: RolloutRecord): AggregatedRollout {
  const s = r.state;
  let analysis: AnalysisSpec | undefined;
  try {
    analysis = s.plan.analysis ? parseAnalysisSpec(s.plan.analysis, 'plan.analysis') : undefined;
  } catch {
    analysis = undefined; // refused when the plan was submitted; never let one bad plan stop the loop
  }
  return {
    id: r.id,
    agent: r.agent,
    strategy: s.plan.strategy,
    baseline: s.baseline ? { release: s.baseline, digest: r.baselineDigest } : null,
    candidate: { release: s.candidate, digest: r.candidateDigest },
    ...(analysis ? { analysis } : {}),
  };
}

export class AnalysisLoop implements ServerPart {
  readonly name = 'analysis loop';
  private timer: NodeJS.Timeout | undefined;
  private lock: HeldLock | null = null;
  private running: Promise<WindowOutcome[]> | undefined;
  private migrated = false;
  /** Per rollout: when its current window opened (local clock). */
  private readonly opened = new Map<string, number>();
  /** Per rollout and step/weight: the last result, what `evaluate` continues from. */
  private readonly history = new Map<string, AnalysisResult>();
  private readonly now: () => number;

  constructor(private readonly opts: AnalysisLoopOptions) {
    this.now = opts.now ?? Date.now;
  }

  get leader(): boolean {
    return this.lock !== null;
  }

  async start(): Promise<void> {
    await this.migrate();
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tickOnce().finally(() => (this.running = undefined));
    }, this.opts.tickMs ?? 1000);
    this.timer.unref?.();
    await this.tickOnce();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.lock?.release().catch(() => {});
    this.lock = null;
  }

  async migrate(): Promise<void> {
    if (this.migrated) return;
    await migrate(this.opts.db, ANALYSIS_MIGRATIONS);
    this.migrated = true;
  }

  /** One pass. `force` closes every window now, whatever its interval (tests, `analysis run`). */
  async tickOnce(force = false): Promise<WindowOutcome[]> {
    try {
      await this.migrate();
      const active = (await listRollouts(this.opts.db, { active: true })).filter((r) => ACTIVE_STATUSES.includes(r.state.status));
      const tracked = active.map(trackedFrom);
      this.opts.aggregator.track(tracked);
      const now = this.now();
      for (const t of tracked) if (!this.opened.has(t.id)) this.opened.set(t.id, now);
      for (const id of this.opened.keys()) if (!tracked.some((t) => t.id === id)) this.opened.delete(id);

      if (!this.lock) this.lock = await this.opts.db.tryLock(ANALYSIS_LOCK_KEY);
      if (!this.lock) {
        this.opts.metrics?.ticks.inc({ outcome: 'analysis-standby' });
        return [];
      }
      const out: WindowOutcome[] = [];
      for (const r of active) {
        const spec = tracked.find((t) => t.id === r.id)?.analysis;
        if (!spec) continue;
        if (!force && now - (this.opened.get(r.id) ?? now) < durationMs(spec.interval)) continue;
        this.opened.set(r.id, now);
        const stored = await this.judge(r, spec);
        if (stored) out.push({ rolloutId: r.id, stored });
      }
      this.opts.metrics?.ticks.inc({ outcome: 'analysis-ok' });
      return out;
    } catch (err) {
      this.opts.metrics?.ticks.inc({ outcome: 'analysis-error' });
      await this.lock?.release().catch(() => {});
      this.lock = null;
      this.opts.onError?.(err);
      return [];
    }
  }

  private async judge(r: RolloutRecord, spec: AnalysisSpec): Promise<StoredResult | undefined> {
    const s = r.state;
    const window = this.opts.aggregator.flush(r.id, { step: s.stepIndex, weight: s.weight });
    if (!window) return undefined;
    const key = `${r.id}:${s.stepIndex}:${s.weight}`;
    let previous = this.history.get(key);
    if (!previous) previous = (await lastResultAt(this.opts.db, r.id, s.stepIndex, s.weight))?.result;
    // A restarted loop begins a new cumulative window: continue the streaks, not the samples.
    const result = evaluate(spec, window, previous ? [previous] : []);
    this.history.set(key, result);
    const verdict = verdictOf(result);
    const last = s.lastVerdict;
    const changed = !last || last.step !== s.stepIndex || last.verdict !== verdict;
    // Send what moves the rollout, and changes of verdict; a rollout already paused by a failing
    // analysis, or whose gate is already open, is not told the same thing every window.
    const moves =
      result.decision === 'rollback' ||
      (result.decision === 'pause' && s.status === 'progressing') ||
      (result.decision === 'advance' && s.status === 'progressing' && s.analysisPassedStep !== s.stepIndex);
    const act = moves || changed;
    const paths = this.opts.aggregator.paths(r.id) ?? null;
    const stored = await this.opts.db.transaction(async (tx: Queryable) => {
      const saved = await saveResult(tx, { rolloutId: r.id, step: s.stepIndex, weight: s.weight, verdict, decision: result.decision, acted: act, result, paths });
      if (act) {
        await commandRollout(
          tx,
          r.id,
          {
            type: 'verdict',
            verdict,
            step: s.stepIndex,
            onRegression: result.decision === 'pause' ? 'pause' : result.decision === 'rollback' ? 'rollback' : spec.onRegression,
            details: details(result, saved.seq),
          },
          { requestId: `analysis:${r.id}:${saved.seq}`, actor: ANALYSIS_ACTOR, roles: ['operator'], reason: result.reason },
        );
      }
      return saved;
    });
    if (act) this.opts.onRolloutChanged?.();
    return stored;
  }
}
