import { Command, CommanderError, Option } from 'commander';
import { invalid } from '@sluice/core';
import { printError, printResult, type CommandResult, type Io } from './output.js';

export interface GlobalOptions {
  json: boolean;
  store: string;
  server?: string;
  token?: string;
}

/**
 * A command handler receives its positional arguments and options (commander's shapes) and the
 * global options, and returns one result. It throws SluiceError for anything that went wrong.
 */
export type Handler<A extends unknown[] = string[], O = Record<string, unknown>> = (
  args: A,
  opts: O,
  globals: GlobalOptions,
) => Promise<CommandResult>;

/** Wire a handler into commander: parse globals, print the result or the error, set the exit code. */
export function action<A extends unknown[], O>(io: Io, state: { exitCode: number }, handler: Handler<A, O>) {
  return async (...raw: unknown[]) => {
    const cmd = raw[raw.length - 1] as Command;
    const opts = cmd.opts() as O;
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    const args = raw.slice(0, raw.length - 2) as A;
    try {
      state.exitCode = printResult(io, await handler(args, opts, globals), globals.json);
    } catch (err) {
      state.exitCode = printError(io, err, globals.json);
    }
  };
}

export function createProgram(io: Io): Command {
  const program = new Command('sluice')
    .description('Release control plane for AI agents: versioned, staged, observed, reversible, supervised.')
    .version('0.1.0', '-V, --version')
    .addOption(new Option('--json', 'print machine-readable JSON').default(false))
    .addOption(new Option('--store <dir>', 'local release store (OCI image layout)').env('SLUICE_STORE').default('.sluice/store'))
    .addOption(new Option('--server <url>', 'control API URL').env('SLUICE_SERVER'))
    .addOption(new Option('--token <token>', 'API token').env('SLUICE_TOKEN'))
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  return program;
}

/** Commander signals usage errors by throwing; map them to exit code 2, help and version to 0. */
export function commanderExitCode(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (err.code === 'commander.executeSubCommandAsync') return 0;
    return 2;
  }
  throw err;
}

/** Parse a whole number option, naming the option when it is wrong. */
export function intOption(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw invalid(`${name}: expected a whole number, got ${JSON.stringify(raw)}`);
    return n;
  };
}
