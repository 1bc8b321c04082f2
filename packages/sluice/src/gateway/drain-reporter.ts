/**
 * Tells the control plane how a drain rollback is going. After `rollout rollback` (drain mode),
 * canary sessions keep their release until they go idle; the rollout stays `rolling-back` until
 * the control plane hears that none is left (`drain-progress` with 0, after which its loop
 * records `drained`). The gateway is the only part that knows, so it reports each change of its
 * count — once per change, not once per tick, so the audit log reads as a drain, not a heartbeat.
 *
 * A gateway reports 0 only once it is `settled` (see DrainStatus), so one that has seen no
 * draining session does not end a drain that another gateway is still serving. With several
 * gateways the first to settle still ends it; a plan's `rollback.drainTimeout` bounds the drain
 * either way (docs/gateway.md).
 */
import type { DrainStatus } from './drains.js';

/** Sends one report; `requestId` makes a retried report a no-op on the control plane. */
export type DrainReport = (rollout: string, inFlight: number, requestId: string) => Promise<void>;

export interface DrainReporterOptions {
  drains: () => DrainStatus[];
  report: DrainReport;
  /** How often to look at the counts (default 1 s). */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export class DrainReporter {
  private readonly sent = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: DrainReporterOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.once(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Report every drain whose count changed since the last successful report. */
  once(): Promise<void> {
    this.running ??= this.reportChanges().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reportChanges(): Promise<void> {
    const live = new Set<string>();
    for (const d of this.opts.drains()) {
      if (d.mode !== 'drain') continue;
      live.add(d.rollout);
      if (this.sent.get(d.rollout) === d.sessions) continue;
      if (d.sessions === 0 && !d.settled) continue;
      try {
        await this.opts.report(d.rollout, d.sessions, `drain:${d.rollout}:${d.since}:${d.requests}:${d.sessions}`);
        this.sent.set(d.rollout, d.sessions);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
    for (const id of this.sent.keys()) if (!live.has(id)) this.sent.delete(id);
  }
}
