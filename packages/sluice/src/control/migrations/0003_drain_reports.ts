import type { Migration } from '../../adapters/store/migrations.js';

/** Each gateway's last count of draining canary sessions, so a drain ends when their sum is 0. */
export const m0003: Migration = {
  version: 3,
  name: 'drain_reports',
  statements: [
    `CREATE TABLE drain_reports (
      rollout_id text NOT NULL REFERENCES rollouts(id),
      gateway text NOT NULL,
      in_flight integer NOT NULL,
      reported_at text NOT NULL,
      PRIMARY KEY (rollout_id, gateway)
    )`,
  ],
};
