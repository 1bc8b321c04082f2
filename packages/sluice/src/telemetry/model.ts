/**
 * What telemetry extracts from spans, events and gateway measurements before aggregating them:
 * who (session, rollout, cohort) and what (tokens, tool calls, outcome, feedback, custom values).
 */
import type { Cohort } from '@sluice/core';
import type { RequestMeasurement } from '../gateway/measurements.js';

// The outcome vocabulary is the SDK's, which agents use to report it.
export { OUTCOMES, isOutcome, type Outcome } from '@sluice/sdk';

/** Whatever a span, event or request says about which release served it. */
export interface Attribution {
  rollout?: string;
  /** `agent@version` */
  release?: string;
  digest?: string;
  cohort?: Cohort;
  /** `gen_ai.agent.name` and `gen_ai.agent.version`, the fallback when Sluice's own keys are absent. */
  agent?: string;
  agentVersion?: string;
}

export interface Target {
  rolloutId: string;
  cohort: Cohort;
}

/** A business event from `POST /v1/events`, validated. */
export interface BusinessEvent {
  session: string;
  type: 'outcome' | 'escalation' | 'feedback' | 'kpi';
  value: string | number | boolean;
  name?: string;
  at?: string;
  attribution: Attribution;
  /** Extra numeric or boolean fields custom metrics may read (`source: {event, field}`). */
  fields?: Record<string, number | boolean>;
}

/** The fields telemetry reads from one gateway measurement: the gateway's own type, so they cannot drift. */
export type MeasuredRequest = Pick<
  RequestMeasurement,
  'at' | 'rollout' | 'release' | 'digest' | 'cohort' | 'unit' | 'status' | 'latencyMs' | 'ttfbMs' | 'outcome' | 'usage' | 'error'
>;
