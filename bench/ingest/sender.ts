/**
 * The senders: one process, several concurrent keep-alive connections, each posting protobuf
 * batches back to back for the measured period. A 429 waits its Retry-After and is counted.
 */
import { Agent, request } from 'undici';
import { buildBatches, locate, renewBatch } from './fixtures.js';

const [url, concurrency, batchSize, batchCount] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
const perSender = Math.ceil(batchCount / concurrency);
const payloads = Array.from({ length: concurrency }, (_, i) => buildBatches(`s${i}`, perSender, batchSize));
const offsets = payloads.map((p) => p.map(locate));
// Every pass over a sender's batches is new to the server (fresh sessions and traces), so the
// whole run exercises the full path, not the cheaper one for spans of sessions already folded.
let pass = 0;
const dispatcher = new Agent({ connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });

let running = false;
let accepted = 0;
let refused = 0;
let failed = 0;

async function sender(i: number): Promise<void> {
  const mine = payloads[i]!;
  let k = 0;
  while (running) {
    const j = k % mine.length;
    const body = renewBatch(mine[j]!, offsets[i]![j]!, pass + Math.floor(k / mine.length));
    k++;
    const res = await request(`${url}/v1/traces`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer bench-token' },
      body,
    });
    await res.body.arrayBuffer();
    if (res.statusCode === 200) accepted += batchSize;
    else if (res.statusCode === 429) {
      refused++;
      await new Promise((r) => setTimeout(r, 50));
    } else failed++;
  }
}

process.send!({ type: 'built', batches: payloads.reduce((n, p) => n + p.length, 0), bytes: payloads.flat().reduce((n, b) => n + b.bytes.byteLength, 0) });
process.on('message', async (m: { type: string; ms?: number }) => {
  if (m.type === 'warmup' || m.type === 'run') {
    accepted = 0;
    refused = 0;
    failed = 0;
    running = true;
    const loops = Array.from({ length: concurrency }, (_, i) => sender(i));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, m.ms));
    running = false;
    await Promise.all(loops);
    pass += 1_000; // the next phase starts on sessions no phase has sent
    process.send!({ type: 'done', phase: m.type, accepted, refused, failed, seconds: (performance.now() - t0) / 1000 });
  }
  if (m.type === 'stop') {
    await dispatcher.close();
    process.exit(0);
  }
});
