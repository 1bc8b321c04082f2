import type { Command } from 'commander';
import type { CliContext, RegisterCommand } from './context.js';
import { registerAnalysis } from './analysis.js';
import { registerInit } from './init.js';
import { registerKeygen } from './keygen.js';
import { registerRelease } from './release/index.js';
import { registerVersion } from './version.js';
import { registerUp } from './up.js';
import { registerGateway } from './gateway.js';
import { registerDeploy } from './deploy.js';
import { registerRollout } from './rollout.js';
import { registerLog } from './log.js';
import { registerAudit } from './audit.js';
import { registerToken } from './token.js';
import { registerApproval } from './approval.js';
import { registerDemo } from './demo.js';

/** One module per noun; each adds its own subcommands. Order is the order in `sluice --help`. */
const nouns: RegisterCommand[] = [registerInit, registerRelease, registerKeygen, registerUp, registerGateway, registerDeploy, registerRollout, registerApproval, registerAnalysis, registerLog, registerAudit, registerToken, registerDemo, registerVersion];

export function registerCommands(program: Command, ctx: CliContext): void {
  for (const register of nouns) register(program, ctx);
}
