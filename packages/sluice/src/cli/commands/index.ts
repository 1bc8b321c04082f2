import type { Command } from 'commander';
import type { CliContext, RegisterCommand } from './context.js';
import { registerInit } from './init.js';
import { registerKeygen } from './keygen.js';
import { registerRelease } from './release/index.js';
import { registerVersion } from './version.js';

/** One module per noun; each adds its own subcommands. Order is the order in `sluice --help`. */
const nouns: RegisterCommand[] = [registerInit, registerRelease, registerKeygen, registerVersion];

export function registerCommands(program: Command, ctx: CliContext): void {
  for (const register of nouns) register(program, ctx);
}
