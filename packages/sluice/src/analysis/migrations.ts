/**
 * The analysis's own tables: one row per judged window, with the whole `AnalysisResult` (every
 * count, estimate, interval, tolerance and rule) and the decision-path table at that time, and
 * the replicas' pooled window data (`analysis_partials`). Kept
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
  {
    // Replicas pool what they gathered: each writes its share of a window here every tick; the
    // replica running the analysis takes them all when the window closes. The cumulative samples
    // and raw path counts go with each result, so another replica can take over the analysis.
    version: 1002,
    name: 'analysis_partials',
    statements: [
      `CREATE TABLE analysis_partials (
        id text PRIMARY KEY,
        rollout_id text NOT NULL REFERENCES rollouts(id),
        step integer NOT NULL,
        weight integer NOT NULL,
        replica text NOT NULL,
        at text NOT NULL,
        samples jsonb NOT NULL,
        paths jsonb NOT NULL
      )`,
      `CREATE INDEX analysis_partials_rollout ON analysis_partials (rollout_id)`,
      `ALTER TABLE analysis_results ADD COLUMN samples jsonb`,
      `ALTER TABLE analysis_results ADD COLUMN path_counts jsonb`,
    ],
  },
];
