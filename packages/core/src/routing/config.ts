/**
 * The routing config: everything a gateway needs to route, and nothing else. The control plane
 * derives it from deployments and active rollouts and publishes it with a monotonic `epoch`;
 * a gateway never applies an epoch older than the one it has (DESIGN.md "Scale").
 */
import type { Digest } from '../canonical/digest.js';

export type Cohort = 'baseline' | 'canary' | 'shadow';
export type Unit = 'session' | 'user' | 'request';
export type Strategy = 'canary' | 'intent' | 'shadow' | 'blue-green';

/** One release as the gateway sees it: where it runs and what to tell its upstream. */
export interface RoutedRelease {
  /** `agent@version` */
  release: string;
  digest: Digest;
  /** Base URLs of the deployment's upstream endpoints, tried round-robin. */
  upstreams: string[];
  /** Value of `sluice-memory-namespace` sent upstream: where this release keeps memory. */
  memoryNamespace: string;
}

export interface RouteMatch {
  host?: string;
  pathPrefix?: string;
  /** e.g. {name: 'x-agent', value: 'support-agent'} */
  header?: { name: string; value: string };
}

/** Where to find the unit key besides the `sluice-session` header and `sluice_session` cookie. */
export interface UnitKeySource {
  /** Dotted JSON body path, e.g. `metadata.session_id`. */
  bodyPath?: string;
}

/**
 * How gateways read a rollout (docs/gateway.md):
 * - `canary`: a new unit goes to the candidate iff its bucket < weight × 100; its first
 *   assignment is remembered for `affinityTtlSeconds` of idleness.
 * - `intent`: per request; listed intents go to the candidate, everything else to the baseline.
 * - `shadow`: `weight` percent of units are mirrored to the candidate; its response is dropped.
 * - `blue-green`: publish the rollout at weight 0 first (sessions are recorded on the baseline),
 *   then switch to weight 100: new sessions go to the candidate, recorded ones stay until their
 *   upstream answers `sluice-boundary: safe`, then migrate.
 */
export interface RolloutRoute {
  id: string;
  strategy: Strategy;
  unit: Unit;
  /** Percent of new units assigned to the candidate (canary) or mirrored (shadow), 0..100. */
  weight: number;
  /** strategy `intent`: requests whose intent is listed go to the candidate. */
  intents?: string[];
  /**
   * strategy `intent`: dotted JSON body path read when the request has no `sluice-intent` header,
   * e.g. `metadata.intent` (the gateway buffers the body, up to a cap, only when this is set).
   */
  intentBodyPath?: string;
  /** Rolled back: every new unit goes to the baseline; `hard` also cuts in-flight canary units over. */
  rolledBack?: { mode: 'drain' | 'hard' };
  candidate: RoutedRelease;
}

export interface AgentRoute {
  agent: string;
  match: RouteMatch;
  unitKey?: UnitKeySource;
  /** Idle TTL of a unit's first assignment, in seconds (session timeout). */
  affinityTtlSeconds: number;
  baseline: RoutedRelease;
  rollout?: RolloutRoute;
  /** Window constraints in force, sent upstream as `sluice-constraints`, e.g. `external-actions=off`. */
  constraints?: string[];
}

export interface RoutingConfig {
  epoch: number;
  generatedAt: string;
  agents: AgentRoute[];
}

export const EMPTY_ROUTING_CONFIG: RoutingConfig = { epoch: 0, generatedAt: new Date(0).toISOString(), agents: [] };
