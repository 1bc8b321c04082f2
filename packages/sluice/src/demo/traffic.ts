/**
 * The demo's customers: sessions at a steady rate through the gateway, a few dozen in flight at
 * most. Each session has its own `sluice-session` id and one customer message (or a few) drawn
 * from the example's intent mix with a seeded PRNG, so two runs with one seed send the same
 * conversations. What each client was served is counted per release, as a customer would see it.
 */
import { Agent, request } from 'undici';
import { customerMessage, mulberry32 } from '@sluice/example-support-agent';

export interface TrafficOptions {
  gatewayUrl: string;
  seed: number;
  /** New sessions per second. */
  rate: number;
  /** Most sessions in flight at once. */
  concurrency: number;
  /** Messages per session: 1 by default. */
  turns?: number;
}

export interface ServedCounts {
  sessions: number;
  escalated: number;
  failed: number;
}

export interface TrafficStats {
  started: number;
  finished: number;
  /** Requests that got no answer or a 5xx. */
  errors: number;
  /** Per release (`agent@version`) that answered the session's last message. */
  byRelease: Record<string, ServedCounts>;
}

export class TrafficGenerator {
  readonly stats: TrafficStats = { started: 0, finished: 0, errors: 0, byRelease: {} };
  private readonly dispatcher: Agent;
  private readonly rand: () => number;
  private running = false;
  private workers: Promise<void>[] = [];
  private t0 = 0;
  private next = 0;

  constructor(private readonly opts: TrafficOptions) {
    this.dispatcher = new Agent({ connections: opts.concurrency, keepAliveTimeout: 10_000 });
    this.rand = mulberry32(opts.seed);
  }

  start(): void {
    this.running = true;
    this.t0 = Date.now();
    for (let i = 0; i < this.opts.concurrency; i++) this.workers.push(this.worker());
  }

  /** Stop starting sessions, let those in flight finish, close the connections. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
    await this.dispatcher.close();
  }

  private async worker(): Promise<void> {
    while (this.running) {
      // Session i starts at t0 + i/rate: a steady arrival rate whatever the response times.
      const i = this.next++;
      // Drawn in session order, before any await: the same seed gives every session the same words.
      const messages = Array.from({ length: this.opts.turns ?? 1 }, () => customerMessage(this.rand));
      const wait = this.t0 + (i * 1000) / this.opts.rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.running) return;
      await this.session(i, messages);
    }
  }

  private async session(i: number, messages: string[]): Promise<void> {
    const id = `demo-${this.opts.seed}-${i}`;
    this.stats.started++;
    let last: { release?: string; outcome?: string } | undefined;
    for (const message of messages) {
      try {
        const res = await request(`${this.opts.gatewayUrl}/v1/chat`, {
          method: 'POST',
          dispatcher: this.dispatcher,
          headers: { 'content-type': 'application/json', 'sluice-session': id },
          body: JSON.stringify({ message }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const body = (await res.body.json().catch(() => ({}))) as { release?: string; outcome?: string };
        if (res.statusCode >= 500) this.stats.errors++;
        last = body;
      } catch {
        this.stats.errors++;
        last = undefined;
      }
    }
    this.stats.finished++;
    if (last?.release) {
      const c = (this.stats.byRelease[last.release] ??= { sessions: 0, escalated: 0, failed: 0 });
      c.sessions++;
      if (last.outcome === 'escalated') c.escalated++;
      if (last.outcome === 'failed') c.failed++;
    }
  }
}
