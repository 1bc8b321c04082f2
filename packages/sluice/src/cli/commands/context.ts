import type { Command } from 'commander';
import type { Io } from '../output.js';

/** What every command module gets when it registers itself. */
export interface CliContext {
  io: Io;
  state: { exitCode: number };
}

export type RegisterCommand = (program: Command, ctx: CliContext) => void;
