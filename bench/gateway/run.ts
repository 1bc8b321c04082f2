/**
 * `npm run bench:gateway`: the same upstream measured direct, through a bare Node pass-through
 * (the floor), through the Sluice gateway with an active canary, and through HAProxy, with wrk
 * at 4 and 32 connections. CPU per request is the proxy process's utime+stime over the run.
 * Proxies are pinned to CPU 1, wrk and the upstream to CPU 0 (when the machine has two), so the
 * proxy under test has a core to itself and the load is the same for all of them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const DURATION = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = [4, 32];
const pinned = cpus().length >= 2;
const tick = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);

const PORTS = { upstream: 17801, bare: 17802, gateway: 17803, haproxy: 17804 };

function start(cpu: number, cmd: string, args: string[], readyRe = /ready/): Promise<ChildProcess> {
  const [c, a] = pinned ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
  const child = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 15_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (readyRe.test(out)) {
        clearTimeout(t);
        resolve(child);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${out}`)));
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the file)
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  cpuUsPerReq?: number;
}

function parseMs(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(port: number, connections: number, pid?: number): Promise<Run> {
  // Warm-up (JIT, connection pools), not measured.
  spawnSync(pinned ? 'taskset' : 'wrk', [...(pinned ? ['-c', '0', 'wrk'] : []), '-t1', `-c${connections}`, '-d1s', '-s', join(here, 'sessions.lua'), `http://127.0.0.1:${port}/`]);
  const before = pid ? cpuTicks(pid) : 0;
  const args = ['-t1', `-c${connections}`, `-d${DURATION}s`, '--latency', '-s', join(here, 'sessions.lua'), `http://127.0.0.1:${port}/`];
  const r = await new Promise<string>((resolve) => {
    const p = spawn(pinned ? 'taskset' : 'wrk', pinned ? ['-c', '0', 'wrk', ...args] : args);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', () => resolve(out));
  });
  const after = pid ? cpuTicks(pid) : 0;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(r)?.[1]);
  const p50 = parseMs(/\s50%\s+(\S+)/.exec(r)?.[1] ?? '');
  const p99 = parseMs(/\s99%\s+(\S+)/.exec(r)?.[1] ?? '');
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r);
  if (non2xx) throw new Error(`port ${port}: ${non2xx[1]} failed responses`);
  const run: Run = { rps, p50, p99, requests };
  if (pid) run.cpuUsPerReq = (((after - before) / tick) * 1e6) / requests;
  return run;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    stop();
    process.exit(130);
  });
  try {
    const node = process.execPath;
    const upstreamUrl = `http://127.0.0.1:${PORTS.upstream}`;
    children.push(await start(0, node, [join(here, 'upstream.mjs'), String(PORTS.upstream)]));
    const bare = await start(1, node, [join(here, 'bare-proxy.mjs'), String(PORTS.bare), upstreamUrl]);
    children.push(bare);
    // The gateway runs as plain JavaScript, as it ships (tsc output), not through the tsx loader,
    // whose keep-names helper would add a defineProperty to every closure created per request.
    const bundle = join(here, 'dist', 'gateway-process.mjs');
    await build({
      entryPoints: [join(here, 'gateway-process.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['sluice-source'],
      external: ['undici', 'ioredis', 'zod'],
      outfile: bundle,
      logLevel: 'error',
      // Bundled CommonJS dependencies call require(); give the ESM bundle one.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    const gateway = await start(1, node, [bundle, String(PORTS.gateway), upstreamUrl]);
    children.push(gateway);
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        '  nbthread 1',
        '  maxconn 4096',
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 60s',
        '  timeout server 60s',
        '  option http-keep-alive',
        'frontend fe',
        `  bind 127.0.0.1:${PORTS.haproxy}`,
        '  default_backend be',
        'backend be',
        '  http-reuse always',
        `  server up 127.0.0.1:${PORTS.upstream}`,
        '',
      ].join('\n'),
    );
    const haproxy = spawn(pinned ? 'taskset' : 'haproxy', pinned ? ['-c', '1', 'haproxy', '-db', '-f', cfg] : ['-db', '-f', cfg], { stdio: 'ignore' });
    children.push(haproxy);
    await new Promise((r) => setTimeout(r, 500));

    const targets: Array<[string, number, number | undefined]> = [
      ['direct upstream', PORTS.upstream, undefined],
      ['bare pass-through', PORTS.bare, bare.pid],
      ['sluice gateway (canary 10%)', PORTS.gateway, gateway.pid],
      ['haproxy (1 thread)', PORTS.haproxy, haproxy.pid],
    ];
    const results = new Map<string, Map<number, Run>>();
    // BENCH_ONLY=bare,gateway runs a subset (for quick comparisons while optimizing); no summary then.
    const only = process.env.BENCH_ONLY?.split(',');
    // Rounds go through every target in turn, so a burst of other work on the machine spreads over
    // all of them; each row keeps its round with the highest throughput.
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, port, pid] of targets) {
        if (only && !only.some((o) => name.includes(o))) continue;
        const byConn = results.get(name) ?? new Map<number, Run>();
        for (const c of CONNECTIONS) {
          const r = await wrk(port, c, pid);
          const prev = byConn.get(c);
          if (!prev || r.rps > prev.rps) byConn.set(c, r);
        }
        results.set(name, byConn);
      }
    }

    const fmt = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
    console.log(`\ngateway bench: wrk ${DURATION}s per row, best of ${ROUNDS} rounds, loopback, ${pinned ? 'proxy on CPU 1, wrk + upstream on CPU 0' : 'unpinned'}`);
    console.log('target                        conns    req/s   p50 ms   p99 ms  CPU µs/req');
    for (const [name, byConn] of results)
      for (const [c, r] of byConn) console.log(`${name.padEnd(29)} ${String(c).padStart(5)} ${fmt(r.rps, 0).padStart(8)} ${fmt(r.p50).padStart(8)} ${fmt(r.p99).padStart(8)} ${fmt(r.cpuUsPerReq, 1).padStart(11)}`);
    if (only) return;
    const g = results.get('sluice gateway (canary 10%)') as Map<number, Run>;
    const h = results.get('haproxy (1 thread)') as Map<number, Run>;
    const b = results.get('bare pass-through') as Map<number, Run>;
    const d = results.get('direct upstream') as Map<number, Run>;
    const ratio = (g.get(32) as Run).rps / (h.get(32) as Run).rps;
    const cpu = ((g.get(32) as Run).cpuUsPerReq as number) / ((b.get(32) as Run).cpuUsPerReq as number);
    const addedP99 = (g.get(4) as Run).p99 - (d.get(4) as Run).p99;
    console.log('');
    console.log(`gateway / haproxy throughput (32 conns): ${ratio.toFixed(2)}  (target ≥ 0.40)`);
    console.log(`gateway / bare CPU per request (32 conns): ${cpu.toFixed(2)}  (target ≤ 1.25)`);
    console.log(`gateway added p99 vs direct (4 conns): ${addedP99.toFixed(2)} ms  (target < 1 ms)`);
  } finally {
    stop();
  }
}

await main();
