import { Option } from 'commander';
import { printError } from '../output.js';
import { intOption, type GlobalOptions } from '../program.js';
import { untilShutdown } from '../shutdown.js';
import { DEFAULT_DATA_DIR } from '../../control/client.js';
import { runUp, type UpOptions } from '../../server/up.js';
import type { RegisterCommand } from './context.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const registerUp: RegisterCommand = (program, { io, state }) => {
  program
    .command('up')
    .description('run Sluice: the control API and rollout loop (and the gateway and telemetry) in one process')
    .option('--port <n>', 'control API port', intOption('--port'), 7700)
    .option('--gateway-port <n>', 'gateway port', intOption('--gateway-port'), 7701)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--data-dir <dir>', 'embedded store and the admin-token file').env('SLUICE_DATA_DIR').default(DEFAULT_DATA_DIR))
    .addOption(new Option('--database-url <url>', 'use PostgreSQL instead of the embedded store').env('SLUICE_DATABASE_URL'))
    .option('--trusted-key <file.pub>', 'trust this Ed25519 public key and require releases to be signed by a trusted key (repeatable)', collect, [])
    .option('--policy <file>', 'release policy file: {requireSignature, trustedKeys: [file.pub...]}')
    .option('--tick-ms <n>', 'rollout loop interval in milliseconds', intOption('--tick-ms'), 1000)
    .addOption(new Option('--redis-url <url>', 'share gateway session affinity with other replicas through Redis (default: in memory)').env('SLUICE_REDIS_URL'))
    .action(async (opts: Omit<UpOptions, 'trustedKeys' | 'policyFile' | 'log'> & { trustedKey: string[]; policy?: string }, cmd) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const log = (line: string) => io.stderr(`${line}\n`);
      try {
        const up = await runUp({
          port: opts.port,
          gatewayPort: opts.gatewayPort,
          host: opts.host,
          dataDir: opts.dataDir,
          ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
          trustedKeys: opts.trustedKey,
          ...(opts.policy ? { policyFile: opts.policy } : {}),
          tickMs: opts.tickMs,
          ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
          log,
        });
        const store = opts.databaseUrl ? `PostgreSQL ${redact(opts.databaseUrl)}` : `embedded store ${opts.dataDir}`;
        if (globals.json) {
          io.stdout(`${JSON.stringify({ status: 'running', store, urls: up.urls, adminToken: up.adminToken?.token ?? null, adminTokenFile: up.adminToken?.file ?? null })}\n`);
        } else {
          io.stdout(`sluice is up (${store})\n`);
          for (const [name, url] of Object.entries(up.urls)) io.stdout(`  ${name.padEnd(8)} ${url.replace(/^[^:]+: /, '')}\n`);
          if (up.adminToken) {
            io.stdout(`\nadmin token (shown once; also written to ${up.adminToken.file}, mode 0600):\n\n  ${up.adminToken.token}\n\n`);
          }
        }
        await untilShutdown();
        log('shutting down');
        await up.stop();
        state.exitCode = 0;
      } catch (err) {
        state.exitCode = printError(io, err, globals.json);
      }
    });
};

/** Never print a database password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(database url)';
  }
}
