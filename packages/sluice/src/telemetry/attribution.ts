/**
 * Rollout attribution: which rollout and cohort a span, event or request belongs to, from the
 * release it names. The control plane's routing config says which releases are in play; a
 * release that is the candidate of an active rollout is its canary (shadow for a shadow
 * rollout), the agent's baseline release is that rollout's baseline.
 */
import type { Cohort, RoutingConfig } from '@sluice/core';
import type { Attribution, Target } from './model.js';

export interface TrackedRollout {
  id: string;
  agent: string;
  strategy: 'canary' | 'intent' | 'shadow' | 'blue-green';
  baseline: { release: string; digest?: string } | null;
  candidate: { release: string; digest?: string };
}

export class AttributionIndex {
  private readonly byRelease = new Map<string, Target>();
  private readonly byRollout = new Map<string, TrackedRollout>();

  constructor(rollouts: readonly TrackedRollout[] = []) {
    for (const r of rollouts) this.add(r);
  }

  static fromRouting(config: RoutingConfig): AttributionIndex {
    const rollouts: TrackedRollout[] = [];
    for (const a of config.agents) {
      if (!a.rollout) continue;
      rollouts.push({
        id: a.rollout.id,
        agent: a.agent,
        strategy: a.rollout.strategy,
        baseline: { release: a.baseline.release, digest: a.baseline.digest },
        candidate: { release: a.rollout.candidate.release, digest: a.rollout.candidate.digest },
      });
    }
    return new AttributionIndex(rollouts);
  }

  get rollouts(): TrackedRollout[] {
    return [...this.byRollout.values()];
  }

  private add(r: TrackedRollout): void {
    this.byRollout.set(r.id, r);
    const canary: Cohort = r.strategy === 'shadow' ? 'shadow' : 'canary';
    const put = (key: string | undefined, cohort: Cohort) => {
      if (key) this.byRelease.set(key, { rolloutId: r.id, cohort });
    };
    put(r.candidate.release, canary);
    put(r.candidate.digest, canary);
    put(r.baseline?.release, 'baseline');
    put(r.baseline?.digest, 'baseline');
  }

  /** The rollout and cohort, or undefined when nothing in play matches. */
  resolve(a: Attribution): Target | undefined {
    const release = a.release ?? (a.agent && a.agentVersion ? `${a.agent}@${a.agentVersion}` : undefined);
    const found = (a.digest && this.byRelease.get(a.digest)) || (release && this.byRelease.get(release)) || undefined;
    if (a.rollout && this.byRollout.has(a.rollout)) {
      // The gateway said which rollout; the cohort is what it said, else what the release implies.
      const cohort = a.cohort ?? (found && found.rolloutId === a.rollout ? found.cohort : undefined);
      return cohort ? { rolloutId: a.rollout, cohort } : undefined;
    }
    if (found) return a.cohort ? { rolloutId: found.rolloutId, cohort: a.cohort } : found;
    if (a.agentVersion && !a.release) {
      // `gen_ai.agent.version` alone: accept it when exactly one release in play has that version.
      const hits = [...this.byRelease.entries()].filter(([k]) => k.endsWith(`@${a.agentVersion}`));
      const targets = new Set(hits.map(([, t]) => `${t.rolloutId}/${t.cohort}`));
      if (targets.size === 1) return a.cohort ? { rolloutId: hits[0]![1].rolloutId, cohort: a.cohort } : hits[0]![1];
    }
    return undefined;
  }
}
