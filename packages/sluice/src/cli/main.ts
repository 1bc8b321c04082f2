import { isSluiceError } from '@sluice/core';
import { registerCommands } from './commands/index.js';
import { printError, processIo, type Io } from './output.js';
import { commanderExitCode, createProgram } from './program.js';

/** Run the CLI and return its exit code. Exported so tests can run it in-process. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const state = { exitCode: 0 };
  const program = createProgram(io);
  registerCommands(program, { io, state });
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (err) {
    if (isSluiceError(err)) return printError(io, err, argv.includes('--json'));
    return commanderExitCode(err);
  }
}
