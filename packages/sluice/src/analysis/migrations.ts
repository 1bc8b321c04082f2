/**
 * The analysis's own table: one row per judged window, with the whole `AnalysisResult` (every
 * count, estimate, interval, tolerance and rule) and the decision-path table at that time. Kept
 * apart from the control migrations (its versions start at 1001) so the analysis can be
 * deployed, and migrated, with the part that writes it.
 */
import type { Migration } from '../adapters/store/migrations.js';

export const ANALYSIS_MIGRATIONS: Migration[] = [
  {
    version: 1001,
    name: 'analysis_results',
    statements: [
      `CREATE TABLE analysis_results (
        rollout_id text NOT NULL REFERENCES rollouts(id),
        seq integer NOT NULL,
        step integer NOT NULL,
        weight integer NOT NULL,
        window_index integer NOT NULL,
        window_start text NOT NULL,
        window_end text NOT NULL,
        decision text NOT NULL,
        verdict text NOT NULL,
        acted boolean NOT NULL,
        result jsonb NOT NULL,
        paths jsonb,
        PRIMARY KEY (rollout_id, seq)
      )`,
    ],
  },
];
