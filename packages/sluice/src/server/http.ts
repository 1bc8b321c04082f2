import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { ServerPart } from './part.js';

export interface HttpPart extends ServerPart {
  /** The base URL once started, e.g. http://127.0.0.1:7700. */
  url(): string;
}

/** Serve a fetch handler (a Hono app's `fetch`) on host:port; port 0 picks a free one. */
export function httpPart(name: string, fetch: (req: Request) => Response | Promise<Response>, opts: { port: number; host?: string }): HttpPart {
  const host = opts.host ?? '127.0.0.1';
  let server: ServerType | undefined;
  let port = opts.port;
  return {
    name,
    url: () => `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    describe() {
      return `${name}: ${this.url()}`;
    },
    start: () =>
      new Promise<void>((resolve, reject) => {
        const s = serve({ fetch, port: opts.port, hostname: host }, (info: AddressInfo) => {
          port = info.port;
          resolve();
        });
        s.once('error', reject);
        server = s;
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        const s = server;
        server = undefined;
        // Long-polls would hold close() open: end idle and active connections.
        (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        s.close(() => resolve());
      }),
  };
}
