/**
 * How every command reports: one result object, printed as JSON with `--json` or as text for
 * people, and one error path that maps SluiceError kinds to DESIGN.md's exit codes.
 */
import { EXIT_CODES, isSluiceError, SluiceError } from '@sluice/core';

export interface CommandResult {
  /** What `--json` prints. */
  data: unknown;
  /** What a person reads; lines are joined with newlines. */
  text: string | string[];
  /** Non-zero when the command ran but its answer is a failure (e.g. verification failed). */
  exitCode?: number;
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

export function printResult(io: Io, result: CommandResult, json: boolean): number {
  if (json) io.stdout(`${JSON.stringify(result.data, null, 2)}\n`);
  else {
    const text = Array.isArray(result.text) ? result.text.join('\n') : result.text;
    if (text.length > 0) io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }
  return result.exitCode ?? 0;
}

export function printError(io: Io, err: unknown, json: boolean): number {
  const e = isSluiceError(err) ? err : unexpected(err);
  if (json) io.stdout(`${JSON.stringify(e.toJSON(), null, 2)}\n`);
  else {
    io.stderr(`error: ${e.message}\n`);
    for (const d of e.details) {
      const line = d.where ? `${d.where}: ${d.message}` : d.message;
      // A single detail often is the headline itself; printing it twice reads like two problems.
      if (line !== e.message && !e.message.endsWith(line)) io.stderr(`  ${line}\n`);
    }
  }
  return EXIT_CODES[e.kind];
}

function unexpected(err: unknown): SluiceError {
  const message = err instanceof Error ? err.message : String(err);
  // Anything we did not anticipate is reported as a failed operation, with the original message.
  return new SluiceError('failed', message);
}
