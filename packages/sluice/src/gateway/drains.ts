/**
 * What a rollback leaves behind. After a `drain` rollback, canary sessions already in flight keep
 * their release until they go idle; this counts them per rollout so the control plane can show
 * the drain and know when it is over (`sessions` reaches 0). Counts are per gateway: the control
 * plane sums them across gateways (`GET /status`).
 */
export interface DrainStatus {
  rollout: string;
  agent: string;
  mode: 'drain' | 'hard';
  /** When this gateway first saw the rollback (ISO time). */
  since: string;
  /** Canary units served since the rollback and not idle longer than their TTL. */
  sessions: number;
  /** Requests currently open to the candidate. */
  inflight: number;
  /** Requests served by the candidate since the rollback. */
  requests: number;
  /** Canary sessions that went back to the baseline at a safe boundary. */
  migrated: number;
  /**
   * This gateway can vouch the drain is over on its side: no draining session left, and either
   * it served draining sessions that have all gone idle or migrated, or a whole idle TTL has
   * passed since the rollback (a canary session that never came back here has expired).
   */
  settled: boolean;
}

interface Entry {
  agent: string;
  mode: 'drain' | 'hard';
  since: number;
  ttlMs: number;
  units: Map<string, number>;
  inflight: number;
  requests: number;
  migrated: number;
}

export class DrainTracker {
  private readonly rollouts = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Note a rolled-back rollout (idempotent: the first sighting sets `since`). */
  rolledBack(rollout: string, agent: string, mode: 'drain' | 'hard', ttlMs: number): void {
    const e = this.rollouts.get(rollout);
    if (e) {
      e.mode = mode;
      return;
    }
    this.rollouts.set(rollout, { agent, mode, since: this.now(), ttlMs, units: new Map(), inflight: 0, requests: 0, migrated: 0 });
  }

  /** A request of a draining canary unit starts; call `finish` when it ends. */
  start(rollout: string, unit: string | undefined): void {
    const e = this.rollouts.get(rollout);
    if (!e) return;
    e.inflight++;
    e.requests++;
    if (unit !== undefined) e.units.set(unit, this.now());
  }

  finish(rollout: string): void {
    const e = this.rollouts.get(rollout);
    if (e && e.inflight > 0) e.inflight--;
  }

  /** A draining unit migrated back to the baseline at a safe boundary. */
  migrated(rollout: string, unit: string): void {
    const e = this.rollouts.get(rollout);
    if (!e) return;
    if (e.units.delete(unit)) e.migrated++;
  }

  /** Forget rollouts no longer in the config. */
  retain(rollouts: Set<string>): void {
    for (const id of this.rollouts.keys()) if (!rollouts.has(id)) this.rollouts.delete(id);
  }

  status(): DrainStatus[] {
    const now = this.now();
    return [...this.rollouts].map(([rollout, e]) => {
      for (const [u, at] of e.units) if (now - at > e.ttlMs) e.units.delete(u);
      return {
        rollout,
        agent: e.agent,
        mode: e.mode,
        since: new Date(e.since).toISOString(),
        sessions: e.units.size,
        inflight: e.inflight,
        requests: e.requests,
        migrated: e.migrated,
        settled: e.units.size === 0 && e.inflight === 0 && (e.requests > 0 || now - e.since >= e.ttlMs),
      };
    });
  }
}
