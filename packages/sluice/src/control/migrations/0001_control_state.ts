import type { Migration } from '../../adapters/store/migrations.js';

/**
 * The control state. Times are ISO-8601 text so they hash and compare the same on every backend;
 * JSON documents are jsonb.
 */
export const m0001: Migration = {
  version: 1,
  name: 'control_state',
  statements: [
    `CREATE TABLE agents (
      name text PRIMARY KEY,
      stable_digest text,
      created_at text NOT NULL
    )`,
    `CREATE TABLE releases (
      digest text PRIMARY KEY,
      agent text NOT NULL REFERENCES agents(name),
      version text NOT NULL,
      manifest jsonb NOT NULL,
      envelopes jsonb NOT NULL,
      verified boolean NOT NULL,
      verification jsonb NOT NULL,
      registered_at text NOT NULL,
      registered_by text NOT NULL,
      UNIQUE (agent, version)
    )`,
    `CREATE TABLE deployments (
      id text PRIMARY KEY,
      agent text NOT NULL REFERENCES agents(name),
      release_digest text NOT NULL REFERENCES releases(digest),
      upstreams jsonb NOT NULL,
      health_url text,
      match jsonb NOT NULL,
      created_at text NOT NULL,
      created_by text NOT NULL
    )`,
    `CREATE TABLE rollouts (
      id text PRIMARY KEY,
      agent text NOT NULL REFERENCES agents(name),
      baseline_digest text NOT NULL REFERENCES releases(digest),
      candidate_digest text NOT NULL REFERENCES releases(digest),
      plan jsonb NOT NULL,
      state jsonb NOT NULL,
      status text NOT NULL,
      active boolean NOT NULL,
      seq integer NOT NULL,
      created_at text NOT NULL,
      created_by text NOT NULL,
      updated_at text NOT NULL
    )`,
    // "Ship one grouped change at a time", enforced by the database as well as by the service.
    `CREATE UNIQUE INDEX rollouts_one_active_per_agent ON rollouts (agent) WHERE active`,
    `CREATE TABLE rollout_events (
      rollout_id text NOT NULL REFERENCES rollouts(id),
      seq integer NOT NULL,
      event jsonb NOT NULL,
      actor text NOT NULL,
      at text NOT NULL,
      PRIMARY KEY (rollout_id, seq)
    )`,
    `CREATE TABLE tokens (
      id text PRIMARY KEY,
      subject text NOT NULL,
      role text NOT NULL,
      hash text NOT NULL UNIQUE,
      created_at text NOT NULL,
      created_by text NOT NULL,
      revoked_at text
    )`,
    `CREATE TABLE audit_log (
      seq integer PRIMARY KEY,
      at text NOT NULL,
      actor text NOT NULL,
      action text NOT NULL,
      target text NOT NULL,
      agent text,
      reason text,
      before jsonb,
      after jsonb,
      prev_hash text NOT NULL,
      hash text NOT NULL
    )`,
    // The chain's head, kept apart from the rows, so deleting the newest rows is detected too.
    `CREATE TABLE audit_head (
      id integer PRIMARY KEY CHECK (id = 1),
      seq integer NOT NULL,
      hash text NOT NULL
    )`,
    `CREATE TABLE idempotency (
      subject text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      status integer NOT NULL,
      body jsonb NOT NULL,
      created_at text NOT NULL,
      PRIMARY KEY (subject, key)
    )`,
    `CREATE TABLE routing_epoch (
      id integer PRIMARY KEY CHECK (id = 1),
      epoch integer NOT NULL,
      updated_at text NOT NULL
    )`,
    `INSERT INTO routing_epoch (id, epoch, updated_at) VALUES (1, 0, '1970-01-01T00:00:00.000Z')`,
  ],
};
