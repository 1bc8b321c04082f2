/**
 * Fan-out of routing changes to long-polling gateways. Writers call `changed()` after they
 * commit; waiters also re-read the epoch from the store every `pollMs`, so a change made by
 * another control replica on the same PostgreSQL is seen too.
 */
import type { Queryable } from '../../adapters/store/database.js';
import { currentEpoch } from '../epoch.js';

export class RoutingHub {
  private waiters = new Set<() => void>();
  constructor(
    private readonly db: Queryable,
    private readonly pollMs = 1000,
  ) {}

  /** Wake every waiter to re-check the epoch. */
  changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve when the epoch is newer than `after`, or after `waitMs`; returns the epoch seen. */
  async waitFor(after: number, waitMs: number, signal?: AbortSignal): Promise<number> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { epoch } = await currentEpoch(this.db);
      const left = deadline - Date.now();
      if (epoch > after || left <= 0 || signal?.aborted) return epoch;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, this.pollMs));
        this.waiters.add(done);
        signal?.addEventListener('abort', done);
      });
    }
  }

  /** Release every waiter (shutdown). */
  close(): void {
    this.changed();
  }
}
