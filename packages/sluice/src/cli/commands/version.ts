import { action } from '../program.js';
import type { RegisterCommand } from './context.js';

export const registerVersion: RegisterCommand = (program, { io, state }) => {
  program
    .command('version')
    .description('print the version of this CLI')
    .action(
      action(io, state, async () => ({
        data: { version: '0.1.0', node: process.version },
        text: `sluice 0.1.0 (node ${process.version})`,
      })),
    );
};
