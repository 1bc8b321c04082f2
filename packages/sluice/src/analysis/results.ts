/** Stored analysis results: written by the loop, read by `GET /v1/rollouts/{id}/analysis`. */
import type { AnalysisResult } from '@sluice/core';
import type { Queryable } from '../adapters/store/database.js';
import type { DecisionPaths } from '../telemetry/aggregate/paths.js';

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
});

export async function saveResult(tx: Queryable, r: Omit<StoredResult, 'seq'>): Promise<StoredResult> {
  const next = await tx.query<{ n: number }>('SELECT coalesce(max(seq), 0)::integer + 1 AS n FROM analysis_results WHERE rollout_id = $1', [r.rolloutId]);
  const seq = Number(next.rows[0]!.n);
  await tx.query(
    `INSERT INTO analysis_results (rollout_id, seq, step, weight, window_index, window_start, window_end, decision, verdict, acted, result, paths)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [r.rolloutId, seq, r.step, r.weight, r.result.window.index, r.result.window.start, r.result.window.end, r.decision, r.verdict, r.acted, JSON.stringify(r.result), r.paths ? JSON.stringify(r.paths) : null],
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
