/**
 * The analysis loop. Every tick, on every replica, it tells telemetry which rollouts are in
 * play (so each replica's ingest attributes spans), and every `publishMs` it writes what that
 * replica gathered since it last did to the store (`analysis_partials`): any replica may receive
 * spans, events and gateway measurements. On the one replica holding the analysis advisory lock it then closes the
 * evaluation window of each active rollout whose `analysis.interval` has elapsed: it takes every
 * replica's share of the window, adds it to the cumulative samples of the step, calls core
 * `evaluate`, stores the result with every number behind it, and feeds the verdict to the rollout
 * through the control plane's rollout service (which appends it to the event log and the audit
 * log). A proven regression rolls back (or pauses) at once; `pass` for `consecutive` windows
 * opens the step's analysis gate.
 *
 * Only what moves the rollout or changes its verdict reaches it: a window that decides nothing
 * new is stored, not sent, so the event log records decisions rather than heartbeats.
 */
import { randomBytes } from 'node:crypto';
import { ACTIVE_STATUSES, durationMs, evaluate, parseAnalysisSpec, type AnalysisResult, type AnalysisSpec, type AnalysisWindow, type JsonValue } from '@sluice/core';
import type { Database, HeldLock, Queryable } from '../adapters/store/database.js';
import type { ControlMetrics } from '../control/metrics.js';
import { commandRollout, listRollouts, type RolloutRecord } from '../control/services/rollouts.js';
import type { ServerPart } from '../server/part.js';
import { canaryShare, type AggregatedRollout, type TelemetryAggregator } from '../telemetry/aggregate/aggregator.js';
import { comparePaths } from '../telemetry/aggregate/paths.js';
import { ANALYSIS_MIGRATIONS } from './migrations.js';
import { emptyPathPair, lastResult, lastResultAt, mergePairs, mergePathPairs, saveResult, savePartial, takePartials, type StoredResult } from './results.js';
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
  /** Names this replica in the pooled window data (default: process id and a nonce). */
  replica?: string;
  /** How often every replica writes its share to the store (the judging replica also right before judging). */
  publishMs?: number;
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
  private lastPublish = -Infinity;
  private readonly now: () => number;
  readonly replica: string;

  constructor(private readonly opts: AnalysisLoopOptions) {
    this.now = opts.now ?? Date.now;
    this.replica = opts.replica ?? `${process.pid}-${randomBytes(3).toString('hex')}`;
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
      const periodic = force || now - this.lastPublish >= (this.opts.publishMs ?? 5000);
      if (periodic) {
        await this.publish(active, tracked, now);
        this.lastPublish = now;
      }

      if (!this.lock) this.lock = await this.opts.db.tryLock(ANALYSIS_LOCK_KEY);
      if (!this.lock) {
        this.opts.metrics?.ticks.inc({ outcome: 'analysis-standby' });
        return [];
      }
      const out: WindowOutcome[] = [];
      for (const r of active) {
        const t = tracked.find((x) => x.id === r.id)!;
        if (!t.analysis) continue;
        const opened = this.opened.get(r.id) ?? now;
        if (!force && now - opened < durationMs(t.analysis.interval)) continue;
        this.opened.set(r.id, now);
        if (!periodic) await this.publish([r], tracked, now);
        out.push({ rolloutId: r.id, stored: await this.judge(r, t, opened, now) });
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

  /** Write what this replica gathered since its last tick, for whichever replica judges. */
  private async publish(active: RolloutRecord[], tracked: AggregatedRollout[], now: number): Promise<void> {
    for (const r of active) {
      const t = tracked.find((x) => x.id === r.id)!;
      // Fold quiet sessions every tick, analysis or not: it is what bounds the memory they take.
      const w = this.opts.aggregator.flush(r.id, { step: r.state.stepIndex, weight: r.state.weight });
      const paths = this.opts.aggregator.takePathDelta(r.id);
      if (!t.analysis || !w || !paths) continue;
      const empty = w.window.baseline.sessions + w.window.canary.sessions === 0 && Object.keys(w.window.baseline.metrics).length + Object.keys(w.window.canary.metrics).length === 0;
      if (empty) continue;
      await savePartial(this.opts.db, { rolloutId: r.id, step: r.state.stepIndex, weight: r.state.weight, replica: this.replica, at: new Date(now).toISOString(), samples: w.window, paths });
    }
  }

  private async judge(r: RolloutRecord, t: AggregatedRollout, opened: number, now: number): Promise<StoredResult> {
    const s = r.state;
    const spec = t.analysis!;
    const { stored, act } = await this.opts.db.transaction(async (tx: Queryable) => {
      const share = await takePartials(tx, r.id, s.stepIndex, s.weight);
      // The step's cumulative samples and the streaks continue from the newest result at this
      // step and weight, whichever replica stored it; the path counts run since the rollout began.
      const previous = await lastResultAt(tx, r.id, s.stepIndex, s.weight);
      const newest = await lastResult(tx, r.id);
      const cumulative = previous?.samples ? mergePairs(previous.samples, share.samples) : share.samples;
      const pathCounts = mergePathPairs(newest?.pathCounts ?? emptyPathPair(), share.paths);
      const window: AnalysisWindow = {
        index: previous ? previous.result.window.index + 1 : 0,
        start: new Date(opened).toISOString(),
        end: new Date(now).toISOString(),
        expectedCanaryShare: canaryShare(t.strategy, s.weight),
        window: share.samples,
        cumulative,
      };
      const result = evaluate(spec, window, previous ? [previous.result] : []);
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
      const saved = await saveResult(tx, {
        rolloutId: r.id,
        step: s.stepIndex,
        weight: s.weight,
        verdict,
        decision: result.decision,
        acted: act,
        result,
        paths: comparePaths(pathCounts.baseline, pathCounts.canary),
        samples: cumulative,
        pathCounts,
      });
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
      return { stored: saved, act };
    });
    if (act) this.opts.onRolloutChanged?.();
    return stored;
  }
}
