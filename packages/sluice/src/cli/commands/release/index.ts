import type { Command } from 'commander';
import type { CliContext, RegisterCommand } from '../context.js';
import { registerBuild } from './build.js';
import { registerSign } from './sign.js';
import { registerVerify } from './verify.js';
import { registerDiff } from './diff.js';
import { registerInspect } from './inspect.js';
import { registerTransfer } from './transfer.js';
import { registerRegister } from './register.js';

/**
 * `sluice release <verb>`: each verb lives in its own module beside this one and adds itself
 * to the `release` command here.
 */
const verbs: Array<(release: Command, ctx: CliContext) => void> = [registerBuild, registerSign, registerVerify, registerInspect, registerDiff, registerTransfer, registerRegister];

export const registerRelease: RegisterCommand = (program, ctx) => {
  const release = program
    .command('release')
    .description('build, sign, verify, inspect, diff, push and pull agent releases');
  for (const register of verbs) register(release, ctx);
};
