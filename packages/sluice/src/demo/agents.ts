/**
 * The example agent as separate processes, one per release, the way they would run beside a
 * gateway: each exports its spans over OTLP to Sluice's ingest. A child's stdin is a lifeline:
 * it exits when the pipe closes, so even a demo killed with SIGKILL leaves no agent behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { RELEASES_DIR } from '@sluice/example-support-agent';

export const EXAMPLE_DIR = dirname(RELEASES_DIR);

export interface AgentProcess {
  release: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface SpawnAgentOptions {
  releaseDir: string;
  modelUrl: string;
  otlpUrl: string;
  otlpToken: string;
  startTimeoutMs?: number;
}

/** Run from TypeScript sources (tests, tsx) or from the build, whichever this module is. */
function command(): { args: string[] } {
  if (import.meta.url.endsWith('.ts')) return { args: ['--conditions=sluice-source', '--import', 'tsx', join(EXAMPLE_DIR, 'src', 'main.ts')] };
  return { args: [join(EXAMPLE_DIR, 'dist', 'main.js')] };
}

export async function spawnAgent(opts: SpawnAgentOptions): Promise<AgentProcess> {
  const { args } = command();
  const child = spawn(
    process.execPath,
    [...args, '--release', opts.releaseDir, '--model-url', opts.modelUrl, '--otlp-url', opts.otlpUrl, '--otlp-token', opts.otlpToken, '--exit-on-stdin-close'],
    { cwd: EXAMPLE_DIR, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = () => stopChild(child, exited);
  try {
    const ready = await new Promise<{ url: string; release: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the agent for ${opts.releaseDir} did not start within ${opts.startTimeoutMs ?? 20_000} ms${stderr ? `: ${stderr}` : ''}`)), opts.startTimeoutMs ?? 20_000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as { url: string; release: string });
        } catch {
          reject(new Error(`the agent for ${opts.releaseDir} said ${JSON.stringify(line)}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the agent for ${opts.releaseDir} exited with ${code}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.once('error', reject);
    });
    child.stdout!.resume();
    return { release: ready.release, url: ready.url, pid: child.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
