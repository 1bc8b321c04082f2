import { main } from '../cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not JSON). */
  json: <T = unknown>() => T;
}

/** Run the CLI in-process and capture what it prints. */
export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await main(['node', 'sluice', ...args], {
      stdout: (s) => void (stdout += s),
      stderr: (s) => void (stderr += s),
    });
    return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
