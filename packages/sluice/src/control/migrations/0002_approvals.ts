import type { Migration } from '../../adapters/store/migrations.js';

/** Approvals agents ask for before a high-risk action while a window says `high-risk=approve`. */
export const m0002: Migration = {
  version: 2,
  name: 'approvals',
  statements: [
    `CREATE TABLE approvals (
      id text PRIMARY KEY,
      action text NOT NULL,
      risk text NOT NULL,
      external boolean NOT NULL,
      session text,
      release text,
      reason text,
      status text NOT NULL,
      requested_by text NOT NULL,
      requested_at text NOT NULL,
      decided_by text,
      decided_at text,
      decision_reason text
    )`,
    `CREATE INDEX approvals_status ON approvals (status, requested_at)`,
  ],
};
