/**
 * WebSocket (and any HTTP/1.1 Upgrade) pass-through to the assigned release: the upgrade request
 * goes upstream with the gateway's headers, the upstream's 101 is relayed, then bytes flow both
 * ways untouched.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Target } from './table.js';
import type { Upstream } from './upstreams.js';

export function proxyUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  target: Target,
  upstream: Upstream,
  headers: string[],
  fail: (status: number, message: string) => void,
): void {
  const protocol = req.headers.upgrade ?? 'websocket';
  upstream.pool
    .upgrade({ path: upstream.basePath + (req.url as string), method: req.method ?? 'GET', headers, protocol })
    .then(({ headers: h, socket }) => {
      if (client.destroyed) {
        socket.destroy();
        return;
      }
      let lines = 'HTTP/1.1 101 Switching Protocols\r\n';
      for (const [k, v] of Object.entries(h)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) lines += `${k}: ${one}\r\n`;
      }
      client.write(`${lines}\r\n`);
      if (head.length > 0) socket.write(head);
      socket.pipe(client).pipe(socket);
      const end = () => {
        socket.destroy();
        client.destroy();
      };
      socket.on('error', end).on('close', end);
      client.on('error', end).on('close', end);
    })
    .catch((err: Error) => fail(502, `upstream of ${target.release} (${target.cohort}) refused the upgrade: ${err.message}`));
}
