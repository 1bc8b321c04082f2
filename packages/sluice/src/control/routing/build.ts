/**
 * Derive the gateways' RoutingConfig (core `routing/config.ts`) from the store: each agent with
 * a deployed stable release gets a route to it, plus its active rollout's candidate.
 */
import type { AgentRoute, Digest, RoutedRelease, RoutingConfig } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import { currentEpoch } from '../epoch.js';
import { listAgents } from '../services/agents.js';
import { deploymentOf, type DeploymentRecord } from '../services/deployments.js';
import { routedRollouts } from '../services/rollouts.js';

/** Default idle TTL of a unit's first assignment: a half-hour session. */
export const DEFAULT_AFFINITY_TTL_SECONDS = 1800;

const routed = (d: DeploymentRecord): RoutedRelease => ({
  release: d.release,
  digest: d.releaseDigest as Digest,
  upstreams: d.upstreams,
  // Each release keeps its memory apart, so a candidate can never corrupt the baseline's sessions.
  memoryNamespace: d.release,
});

export async function buildRoutingConfig(q: Queryable): Promise<RoutingConfig> {
  // Read the epoch first: the data read after it is at least that new, never older.
  const { epoch } = await currentEpoch(q);
  const rollouts = await routedRollouts(q);
  const agents: AgentRoute[] = [];
  for (const agent of await listAgents(q)) {
    if (!agent.stableDigest) continue;
    const base = await deploymentOf(q, agent.stableDigest);
    if (!base) continue;
    const route: AgentRoute = { agent: agent.name, match: base.match, affinityTtlSeconds: DEFAULT_AFFINITY_TTL_SECONDS, baseline: routed(base) };
    const r = rollouts.get(agent.name);
    const cand = r ? await deploymentOf(q, r.candidateDigest) : null;
    if (r && cand) {
      const { view } = r;
      route.rollout = {
        id: view.id,
        strategy: view.strategy,
        unit: view.unit,
        weight: view.weight,
        ...(view.intents ? { intents: view.intents } : {}),
        ...(view.rolledBack ? { rolledBack: view.rolledBack } : {}),
        candidate: routed(cand),
      };
    }
    agents.push(route);
  }
  return { epoch, generatedAt: new Date().toISOString(), agents };
}
