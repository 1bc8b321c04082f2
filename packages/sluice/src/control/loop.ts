/**
 * The rollout loop: every `intervalMs`, apply whatever time has made due on each active rollout
 * (holds elapsed, plan pauses over, drains timed out). On PostgreSQL only the replica holding
 * the advisory lock runs it; the others keep trying, and take over when that replica dies.
 */
import { LOCK_KEYS, type Database, type HeldLock } from '../adapters/store/database.js';
import type { ServerPart } from '../server/part.js';
import type { ControlMetrics } from './metrics.js';
import type { RoutingHub } from './routing/hub.js';
import { activeRolloutIds, tickRollout } from './services/rollouts.js';

export interface RolloutLoopOptions {
  db: Database;
  routing: RoutingHub;
  metrics: ControlMetrics;
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export class RolloutLoop implements ServerPart {
  readonly name = 'rollout loop';
  private timer: NodeJS.Timeout | undefined;
  private lock: HeldLock | null = null;
  private running: Promise<number> | undefined;

  constructor(private readonly opts: RolloutLoopOptions) {}

  get leader(): boolean {
    return this.lock !== null;
  }

  async start(): Promise<void> {
    const every = this.opts.intervalMs ?? 1000;
    this.timer = setInterval(() => {
      // Never overlap ticks: a slow store delays the next one instead of piling them up.
      if (!this.running) this.running = this.tickOnce().finally(() => (this.running = undefined));
    }, every);
    this.timer.unref?.();
    await this.tickOnce();
  }

  /** One pass over the active rollouts; returns the number of events appended. */
  async tickOnce(now?: Date): Promise<number> {
    try {
      if (!this.lock) this.lock = await this.opts.db.tryLock(LOCK_KEYS.rolloutLoop);
      if (!this.lock) {
        this.opts.metrics.ticks.inc({ outcome: 'standby' });
        return 0;
      }
      let appended = 0;
      for (const id of await activeRolloutIds(this.opts.db)) {
        const events = await this.opts.db.transaction((tx) => tickRollout(tx, id, (now ?? new Date()).toISOString()));
        appended += events.length;
      }
      if (appended > 0) this.opts.routing.changed();
      this.opts.metrics.ticks.inc({ outcome: 'ok' });
      return appended;
    } catch (err) {
      this.opts.metrics.ticks.inc({ outcome: 'error' });
      // A lost connection may have dropped the lock with it: take it again next time.
      await this.lock?.release().catch(() => {});
      this.lock = null;
      this.opts.onError?.(err);
      return 0;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.lock?.release().catch(() => {});
    this.lock = null;
  }
}
