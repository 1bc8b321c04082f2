import { hostname } from 'node:os';
import { Option } from 'commander';
import { invalid } from '@sluice/core';
import { printError } from '../output.js';
import { intOption, type GlobalOptions } from '../program.js';
import { untilShutdown } from '../shutdown.js';
import { RedisAffinityStore } from '../../adapters/affinity/redis/redis.js';
import { MemoryAffinityStore } from '../../adapters/affinity/memory/memory.js';
import { ControlPlaneConfigSource, FileConfigSource, type ConfigSource } from '../../gateway/config-source.js';
import { Gateway } from '../../gateway/gateway.js';
import { DrainReporter } from '../../gateway/drain-reporter.js';
import { MeasurementForwarder } from '../../gateway/measurement-forwarder.js';
import { ControlClient } from '../../control/client.js';
import { Measurements } from '../../gateway/measurements.js';
import type { RegisterCommand } from './context.js';

interface GatewayCliOptions {
  control?: string;
  config?: string;
  port: number;
  host: string;
  adminPort?: number;
  redisUrl?: string;
  redisPrefix: string;
  connectTimeoutMs: number;
}

export const registerGateway: RegisterCommand = (program, { io, state }) => {
  program
    .command('gateway')
    .description('run a gateway on its own: routes agent traffic by the routing config of a control plane')
    .addOption(new Option('--control <url>', 'control API to long-poll for routing config (default: --server)'))
    .option('--config <file>', 'read routing config from a JSON file instead (re-read when it changes)')
    .option('--port <n>', 'traffic port', intOption('--port'), 7701)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--admin-port <n>', 'serve /healthz, /readyz, /metrics and /status on this port instead of the traffic port', intOption('--admin-port'))
    .addOption(new Option('--redis-url <url>', 'share session affinity through Redis (default: in memory)').env('SLUICE_REDIS_URL'))
    .option('--redis-prefix <prefix>', 'key prefix in Redis', 'sluice:affinity:')
    .option('--connect-timeout-ms <n>', 'give up connecting to an upstream after this long (then 502)', intOption('--connect-timeout-ms'), 2000)
    .addHelpText(
      'after',
      '\nThe token (--token or SLUICE_TOKEN) needs the viewer role to route, agent to send request\nmeasurements to the analysis, and operator to report drain rollbacks. Without a control\nplane the gateway keeps serving its last good config and /readyz says stale: true.\n\nExamples:\n  sluice gateway --control http://sluice.internal:7700 --token $SLUICE_TOKEN\n  sluice gateway --control http://127.0.0.1:7700 --redis-url redis://127.0.0.1:6379 --port 8080',
    )
    .action(async (opts: GatewayCliOptions, cmd) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const log = (line: string) => io.stderr(`${line}\n`);
      try {
        const control = opts.control ?? globals.server;
        if (!control && !opts.config) throw invalid('sluice gateway: give --control <url> (or --server, SLUICE_SERVER) or --config <file>', [{ where: '--control', message: 'missing' }]);
        if (control && opts.config) throw invalid('sluice gateway: give either --control or --config, not both', [{ where: '--config', message: 'conflicts with --control' }]);
        if (control) {
          try {
            new URL(control);
          } catch {
            throw invalid(`--control: not a URL: ${JSON.stringify(control)}`, [{ where: '--control', message: 'not a URL' }]);
          }
        }
        const source: ConfigSource = control
          ? new ControlPlaneConfigSource({ url: control, ...(globals.token ? { token: globals.token } : {}) })
          : new FileConfigSource(opts.config as string);
        const affinity = opts.redisUrl
          ? new RedisAffinityStore({ url: opts.redisUrl, keyPrefix: opts.redisPrefix, onHealthChange: (h) => log(h.degraded ? `affinity: Redis unreachable (${h.reason ?? ''}); assigning by hash` : 'affinity: Redis is back') })
          : new MemoryAffinityStore();
        const gw = new Gateway({
          port: opts.port,
          host: opts.host,
          source,
          affinity,
          upstream: { connectTimeoutMs: opts.connectTimeoutMs },
          // Records reach the analysis by subscription (the forwarder below), so no pull buffer.
          measurements: new Measurements(0),
          ...(opts.adminPort !== undefined ? { adminPort: opts.adminPort } : {}),
        });
        await gw.start();
        const gatewayName = `${hostname()}:${gw.port}`;
        // Report drain rollbacks back to the control plane (needs an operator token; a viewer
        // token still routes, and the plan's drainTimeout then ends the drain).
        const client = control ? new ControlClient({ server: control, ...(globals.token ? { token: globals.token } : {}), retryForMs: 0 }) : undefined;
        const drains = client
          ? new DrainReporter({
              drains: () => gw.status().drains,
              report: async (rollout, inFlight, requestId) => {
                await client.command(`/v1/rollouts/${encodeURIComponent(rollout)}/drain-progress`, { inFlight, gateway: gatewayName }, { idempotencyKey: `${gatewayName}:${requestId}` });
              },
              onError: (err) => log(`drain report: ${(err as Error).message}`),
            })
          : undefined;
        drains?.start();
        // Request measurements go to the control plane's analysis, as the in-process gateway's do.
        const forwarder = client
          ? new MeasurementForwarder({
              measurements: gw.measurements,
              send: async (requests) => {
                await client.request('POST', '/v1/measurements', { body: { gateway: gatewayName, requests } });
              },
              onError: (err) => log(`measurements: ${(err as Error).message}`),
            })
          : undefined;
        forwarder?.start();
        const url = `http://${opts.host}:${gw.port}`;
        const admin = gw.adminPort !== undefined ? `http://${opts.host}:${gw.adminPort}` : url;
        const from = control ? `control plane ${control}` : `file ${opts.config as string}`;
        if (globals.json) io.stdout(`${JSON.stringify({ status: 'running', url, admin, config: from, affinity: opts.redisUrl ? 'redis' : 'memory' })}\n`);
        else io.stdout(`sluice gateway is up on ${url} (config from ${from}; affinity ${opts.redisUrl ? 'in Redis' : 'in memory'})\n  ready    ${admin}/readyz\n  metrics  ${admin}/metrics\n  status   ${admin}/status\n`);
        await untilShutdown();
        log('shutting down');
        await drains?.stop();
        await forwarder?.stop();
        await gw.stop();
        state.exitCode = 0;
      } catch (err) {
        state.exitCode = printError(io, err, globals.json);
      }
    });
};
