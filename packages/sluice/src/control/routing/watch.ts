/**
 * The routing feed for parts in the same process as the control plane (the gateway under
 * `sluice up`): the same config `GET /v1/routing` serves, delivered on every new epoch, without
 * HTTP or a token. Gateways in other processes long-poll the API instead.
 */
import type { RoutingConfig } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import { buildRoutingConfig } from './build.js';
import type { RoutingHub } from './hub.js';

export interface RoutingWatch {
  stop(): Promise<void>;
}

export function watchRouting(
  deps: { db: Queryable; routing: RoutingHub },
  apply: (config: RoutingConfig) => void,
  opts: { waitMs?: number; onError?: (err: unknown) => void } = {},
): RoutingWatch {
  const abort = new AbortController();
  const loop = (async () => {
    let epoch = -1;
    while (!abort.signal.aborted) {
      try {
        if (epoch >= 0) await deps.routing.waitFor(epoch, opts.waitMs ?? 30_000, abort.signal);
        if (abort.signal.aborted) break;
        const config = await buildRoutingConfig(deps.db);
        if (config.epoch > epoch) {
          epoch = config.epoch;
          apply(config);
        }
      } catch (err) {
        opts.onError?.(err);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  return {
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}
