/**
 * A process is composed of parts (control API, rollout loop, gateway, telemetry...), each with
 * start and stop. `sluice up` starts them in order and stops them in reverse, so a part can
 * rely on the ones started before it.
 */
export interface ServerPart {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What to tell the person who ran `sluice up` once it is running, e.g. its URL. */
  describe?(): string | undefined;
}

export class Parts {
  private started: ServerPart[] = [];
  constructor(private readonly parts: ServerPart[]) {}

  /** Start every part; if one fails, stop those already running and rethrow. */
  async start(): Promise<void> {
    for (const p of this.parts) {
      try {
        await p.start();
        this.started.push(p);
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
  }

  async stop(): Promise<void> {
    const running = this.started.reverse();
    this.started = [];
    for (const p of running) await p.stop().catch(() => {});
  }

  describe(): string[] {
    return this.parts.map((p) => p.describe?.()).filter((s): s is string => !!s);
  }
}
