/** Stored analysis results: written by the loop, read by `GET /v1/rollouts/{id}/analysis`. */
import { randomBytes } from 'node:crypto';
import { mergeCohorts, type AnalysisResult, type CohortPair } from '@sluice/core';
import type { Queryable } from '../adapters/store/database.js';
import { emptyPaths, mergePaths, type DecisionPaths, type PathCounts } from '../telemetry/aggregate/paths.js';

type Decision = AnalysisResult['decision'];
type Verdict = AnalysisResult['metrics'][number]['verdict'];

export interface StoredResult {
  rolloutId: string;
  seq: number;
  step: number;
  weight: number;
  /** What the rollout was told: the overall verdict for this window. */
  verdict: Verdict;
  decision: Decision;
  /** A verdict was sent to the rollout for this window (only changes and actions are sent). */
  acted: boolean;
  result: AnalysisResult;
  paths: DecisionPaths | null;
  /** Cumulative samples at this step and weight after this window (what the next window adds to). */
  samples: CohortPair | null;
  /** Raw decision-path counts since the rollout began. */
  pathCounts: PathPair | null;
}

export interface PathPair {
  baseline: PathCounts;
  canary: PathCounts;
}

interface Row {
  rollout_id: string;
  seq: number;
  step: number;
  weight: number;
  decision: Decision;
  verdict: Verdict;
  acted: boolean;
  result: AnalysisResult;
  paths: DecisionPaths | null;
  samples: CohortPair | null;
  path_counts: PathPair | null;
}

const fromRow = (r: Row): StoredResult => ({
  rolloutId: r.rollout_id,
  seq: Number(r.seq),
  step: Number(r.step),
  weight: Number(r.weight),
  verdict: r.verdict,
  decision: r.decision,
  acted: r.acted,
  result: r.result,
  paths: r.paths,
  samples: r.samples ?? null,
  pathCounts: r.path_counts ?? null,
});

export async function saveResult(tx: Queryable, r: Omit<StoredResult, 'seq'>): Promise<StoredResult> {
  const next = await tx.query<{ n: number }>('SELECT coalesce(max(seq), 0)::integer + 1 AS n FROM analysis_results WHERE rollout_id = $1', [r.rolloutId]);
  const seq = Number(next.rows[0]!.n);
  await tx.query(
    `INSERT INTO analysis_results (rollout_id, seq, step, weight, window_index, window_start, window_end, decision, verdict, acted, result, paths, samples, path_counts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      r.rolloutId,
      seq,
      r.step,
      r.weight,
      r.result.window.index,
      r.result.window.start,
      r.result.window.end,
      r.decision,
      r.verdict,
      r.acted,
      JSON.stringify(r.result),
      r.paths ? JSON.stringify(r.paths) : null,
      r.samples ? JSON.stringify(r.samples) : null,
      r.pathCounts ? JSON.stringify(r.pathCounts) : null,
    ],
  );
  return { ...r, seq };
}

/** The newest results first, at most `limit`. */
export async function listResults(q: Queryable, rolloutId: string, limit = 20): Promise<StoredResult[]> {
  const r = await q.query<Row>('SELECT * FROM analysis_results WHERE rollout_id = $1 ORDER BY seq DESC LIMIT $2', [rolloutId, limit]);
  return r.rows.map(fromRow);
}

/** The newest result at this step and weight (what `evaluate` continues from after a restart). */
export async function lastResultAt(q: Queryable, rolloutId: string, step: number, weight: number): Promise<StoredResult | undefined> {
  const r = await q.query<Row>('SELECT * FROM analysis_results WHERE rollout_id = $1 AND step = $2 AND weight = $3 ORDER BY seq DESC LIMIT 1', [rolloutId, step, weight]);
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}

/** The rollout's newest result at any step (its path counts run since the rollout began). */
export async function lastResult(q: Queryable, rolloutId: string): Promise<StoredResult | undefined> {
  return (await listResults(q, rolloutId, 1))[0];
}

/** One replica's share of a window: its samples and path counts since its last tick. */
export async function savePartial(tx: Queryable, p: { rolloutId: string; step: number; weight: number; replica: string; at: string; samples: CohortPair; paths: PathPair }): Promise<void> {
  await tx.query('INSERT INTO analysis_partials (id, rollout_id, step, weight, replica, at, samples, paths) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
    randomBytes(8).toString('hex'),
    p.rolloutId,
    p.step,
    p.weight,
    p.replica,
    p.at,
    JSON.stringify(p.samples),
    JSON.stringify(p.paths),
  ]);
}

export const emptyPair = (): CohortPair => ({ baseline: { sessions: 0, metrics: {} }, canary: { sessions: 0, metrics: {} } });
export const mergePairs = (a: CohortPair, b: CohortPair): CohortPair => ({ baseline: mergeCohorts(a.baseline, b.baseline), canary: mergeCohorts(a.canary, b.canary) });
export const mergePathPairs = (a: PathPair, b: PathPair): PathPair => ({ baseline: mergePaths(a.baseline, b.baseline), canary: mergePaths(a.canary, b.canary) });
export const emptyPathPair = (): PathPair => ({ baseline: emptyPaths(), canary: emptyPaths() });

/**
 * Take every replica's share of the rollout's window: the samples and path counts at this step
 * and weight, summed. Shares from an earlier step or weight are dropped with the window they
 * belonged to (their count is returned).
 */
export async function takePartials(tx: Queryable, rolloutId: string, step: number, weight: number): Promise<{ samples: CohortPair; paths: PathPair; replicas: number; stale: number }> {
  const rows = (
    await tx.query<{ step: number; weight: number; replica: string; samples: CohortPair; paths: PathPair }>(
      'DELETE FROM analysis_partials WHERE rollout_id = $1 RETURNING step, weight, replica, samples, paths',
      [rolloutId],
    )
  ).rows;
  let samples = emptyPair();
  let paths = emptyPathPair();
  const replicas = new Set<string>();
  let stale = 0;
  for (const r of rows) {
    if (Number(r.step) !== step || Number(r.weight) !== weight) {
      stale++;
      continue;
    }
    samples = mergePairs(samples, r.samples);
    paths = mergePathPairs(paths, r.paths);
    replicas.add(r.replica);
  }
  return { samples, paths, replicas: replicas.size, stale };
}
