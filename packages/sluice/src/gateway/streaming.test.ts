import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { request } from 'undici';
import { agentRoute, config, release, startGateway, startUpstream } from './testing.js';

test('SSE chunks reach the client before the upstream has finished, and usage on the final chunk is measured', async () => {
  let release1!: () => void;
  const clientGotFirst = new Promise<void>((r) => (release1 = r));
  let upstreamFinished = false;
  const base = await startUpstream('sse', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n');
    // The upstream holds the rest until the client has seen the first event.
    void clientGotFirst.then(() => {
      res.write('data: {"choices":[{"delta":{"content":"lo"}}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}\n\n');
      res.end('data: [DONE]\n\n');
      upstreamFinished = true;
    });
  });
  const { gw, url } = await startGateway(config(1, [agentRoute(release('a@1', [base.url]))]));
  try {
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: '{"stream":true}', headers: { 'content-type': 'application/json', 'sluice-session': 's' } });
    assert.equal(res.headers['content-type'], 'text/event-stream');
    const chunks: string[] = [];
    for await (const c of res.body) {
      const text = (c as Buffer).toString();
      if (chunks.length === 0) {
        assert.match(text, /"Hel"/);
        assert.equal(upstreamFinished, false, 'the first event arrived while the upstream was still streaming');
        release1();
      }
      chunks.push(text);
    }
    assert.ok(upstreamFinished);
    assert.match(chunks.join(''), /\[DONE\]/);
    const [m] = gw.measurements.drain().requests;
    assert.deepEqual(m?.usage, { inputTokens: 5, outputTokens: 2, totalTokens: 7 });
    assert.ok((m?.ttfbMs ?? Infinity) < (m?.latencyMs ?? 0), 'time to first byte comes before the end');
  } finally {
    await gw.stop();
    await base.close();
  }
});

/** A WebSocket-shaped upgrade server: answers the handshake, names itself, then echoes bytes. */
async function upgradeUpstream(name: string) {
  const up = await startUpstream(name);
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  up.server.on('upgrade', (req, socket: Socket) => {
    seen.push(req.headers);
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key'] as string}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-served-by: ${name}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from(`${name}:`), d])));
  });
  return { ...up, seenUpgrades: seen };
}

function openUpgrade(url: string, headers: Record<string, string>): Promise<{ socket: Socket; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/ws`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => resolve({ socket, headers: res.headers }));
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

test('WebSocket upgrades pass through to the assigned release, with the release headers upstream', async () => {
  const base = await upgradeUpstream('base');
  const cand = await upgradeUpstream('cand');
  const { gw, url } = await startGateway(
    config(1, [agentRoute(release('a@1', [base.url]), { id: 'ro-ws', strategy: 'canary', unit: 'session', weight: 100, candidate: release('a@2', [cand.url]) })]),
  );
  try {
    const { socket, headers } = await openUpgrade(url, { 'sluice-session': 'ws-1', 'sluice-cohort': 'baseline' });
    assert.equal(headers['x-served-by'], 'cand', 'weight 100: the candidate serves, whatever the client claims');
    assert.equal(headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.write('ping');
    });
    assert.equal(echoed, 'cand:ping');
    socket.destroy();
    assert.equal(cand.seenUpgrades[0]?.['sluice-release'], 'a@2');
    assert.equal(cand.seenUpgrades[0]?.['sluice-cohort'], 'canary');
    assert.equal(base.seenUpgrades.length, 0);
  } finally {
    await gw.stop();
    await base.close();
    await cand.close();
  }
});

test('a client that goes away mid-stream closes the upstream request too', async () => {
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((r) => (upstreamClosed = r));
  const base = await startUpstream('sse', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    const timer = setInterval(() => res.write('data: more\n\n'), 20);
    res.on('close', () => {
      clearInterval(timer);
      upstreamClosed();
    });
    void req;
  });
  const { gw, url } = await startGateway(config(1, [agentRoute(release('a@1', [base.url]))]));
  try {
    const ac = new AbortController();
    const res = await request(`${url}/stream`, { headers: { 'sluice-session': 's' }, signal: ac.signal });
    for await (const c of res.body) {
      assert.match((c as Buffer).toString(), /first/);
      break;
    }
    ac.abort();
    await closed;
    await new Promise((r) => setTimeout(r, 20));
    const [m] = gw.measurements.drain().requests;
    assert.equal(m?.error, 'client-abort');
    assert.equal(m?.status, 200);
  } finally {
    await gw.stop();
    await base.close();
  }
});
