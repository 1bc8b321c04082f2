// npm run bench:ingest — spans per second ingested end to end on loopback, per core of the
// ingest server, with an anchor: a bare decode-only loop over the same bytes in the same run.
// Server and senders are separate processes; the server's CPU time comes from /proc/<pid>/stat.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decodeProtobuf } from '../../packages/sluice/src/telemetry/otlp/protobuf.js';
import { buildBatches } from './fixtures.js';

const BATCH = Number(process.env.SLUICE_BENCH_BATCH ?? 512);
const CONCURRENCY = Number(process.env.SLUICE_BENCH_SENDERS ?? 4);
const SECONDS = Number(process.env.SLUICE_BENCH_SECONDS ?? 10);
const BATCHES = Number(process.env.SLUICE_BENCH_BATCHES ?? 400);
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in clock ticks (getconf CLK_TCK)

const execArgv = ['--conditions=sluice-source', '--import', 'tsx'];
const here = new URL('.', import.meta.url).pathname;

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is 14th, stime 15th overall.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICKS;
}

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

function decodeOnly(batches: Uint8Array[], ms: number): number {
  let spans = 0;
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < ms) spans += decodeProtobuf(batches[i++ % batches.length]!).spans.length;
  return spans / ((performance.now() - t0) / 1000);
}

const server = fork(`${here}server.ts`, [], { execArgv });
const { port } = await next<{ port: number }>(server, 'ready');
const url = `http://127.0.0.1:${port}`;
const sender = fork(`${here}sender.ts`, [url, String(CONCURRENCY), String(BATCH), String(BATCHES)], { execArgv });
const built = await next<{ batches: number; bytes: number }>(sender, 'built');

sender.send({ type: 'warmup', ms: 2000 });
await next(sender, 'done');

const cpu0 = cpuSeconds(server.pid!);
const wall0 = performance.now();
sender.send({ type: 'run', ms: SECONDS * 1000 });
const run = await next<{ accepted: number; refused: number; failed: number; seconds: number }>(sender, 'done');
const wall = (performance.now() - wall0) / 1000;
const cpu = cpuSeconds(server.pid!) - cpu0;
server.send({ type: 'stats' });
const stats = await next<{ counters: { spansAccepted: number }; aggregator: Record<string, number>; refused: number; cumulativeSessions: number }>(server, 'stats');

// The anchor, in this process, over the same kind of bytes.
const anchorBatches = buildBatches('anchor', 40, BATCH).map((b) => b.bytes);
decodeOnly(anchorBatches, 1000); // warm up
// Best of three: other processes on the machine only ever slow a window down.
const decodeRate = Math.max(decodeOnly(anchorBatches, 1000), decodeOnly(anchorBatches, 1000), decodeOnly(anchorBatches, 1000));

const spansPerSecond = run.accepted / wall;
const perCore = run.accepted / cpu;
const result = {
  batchSize: BATCH,
  senders: CONCURRENCY,
  seconds: Number(wall.toFixed(2)),
  payloadBytesPerBatch: Math.round(built.bytes / built.batches),
  spansAccepted: run.accepted,
  refused429: run.refused,
  failed: run.failed,
  spansPerSecond: Math.round(spansPerSecond),
  serverCpuSeconds: Number(cpu.toFixed(2)),
  serverCpuShare: Number((cpu / wall).toFixed(2)),
  spansPerSecondPerCore: Math.round(perCore),
  decodeOnlySpansPerSecond: Math.round(decodeRate),
  ratioToDecodeOnly: Number((perCore / decodeRate).toFixed(2)),
  target: 20000,
};

console.log(`ingest: ${BATCH}-span protobuf batches (~${result.payloadBytesPerBatch} bytes) from ${CONCURRENCY} concurrent senders in a separate process, ${result.seconds} s on loopback`);
console.log(`  accepted          ${result.spansAccepted} spans (${result.refused429} requests answered 429, ${result.failed} failed)`);
console.log(`  throughput        ${result.spansPerSecond} spans/s wall clock`);
console.log(`  server CPU        ${result.serverCpuSeconds} s = ${result.serverCpuShare} cores busy on average`);
console.log(`  per core          ${result.spansPerSecondPerCore} spans/s per core of the ingest server (target ≥ ${result.target})`);
console.log(`  anchor            ${result.decodeOnlySpansPerSecond} spans/s decode-only loop (same bytes, one core), ratio ${result.ratioToDecodeOnly}`);
console.log(`  server saw        ${stats.counters.spansAccepted} spans, ${stats.cumulativeSessions} sessions folded, ${stats.aggregator.late ?? 0} late, ${stats.aggregator.sessionsOverflow ?? 0} overflow`);
console.log(JSON.stringify(result));

sender.send({ type: 'stop' });
server.send({ type: 'stop' });
await Promise.all([new Promise((r) => sender.once('exit', r)), new Promise((r) => server.once('exit', r))]);
process.exitCode = result.spansPerSecondPerCore >= result.target ? 0 : 1;
