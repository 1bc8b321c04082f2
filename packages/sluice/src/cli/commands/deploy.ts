import { invalid, type RouteMatch } from '@sluice/core';
import { action } from '../program.js';
import { clientFor } from '../../control/client.js';
import type { DeploymentRecord } from '../../control/services/deployments.js';
import type { RegisterCommand } from './context.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface AddOptions {
  upstream: string[];
  health?: string;
  matchHost?: string;
  matchPathPrefix?: string;
  matchHeader?: string;
}

/** The route match from the `--match-*` options; at most one kind. */
export function matchFrom(opts: AddOptions): RouteMatch | undefined {
  const given = [opts.matchHost, opts.matchPathPrefix, opts.matchHeader].filter((v) => v !== undefined);
  if (given.length > 1) throw invalid('give one of --match-host, --match-path-prefix or --match-header', [{ where: '--match-*', message: 'more than one' }]);
  if (opts.matchHost) return { host: opts.matchHost };
  if (opts.matchPathPrefix) return { pathPrefix: opts.matchPathPrefix };
  if (opts.matchHeader) {
    const eq = opts.matchHeader.indexOf('=');
    if (eq <= 0) throw invalid(`--match-header: expected name=value, got ${JSON.stringify(opts.matchHeader)}`, [{ where: '--match-header', message: 'expected name=value' }]);
    return { header: { name: opts.matchHeader.slice(0, eq).toLowerCase(), value: opts.matchHeader.slice(eq + 1) } };
  }
  return undefined;
}

const describeMatch = (m: RouteMatch) =>
  m.host ? `host ${m.host}` : m.pathPrefix ? `path ${m.pathPrefix}*` : m.header ? `header ${m.header.name}=${m.header.value}` : 'all traffic';

const row = (d: DeploymentRecord) => `${d.id}  ${d.release}  ${d.upstreams.join(', ')}  (${describeMatch(d.match)}${d.healthUrl ? `, health ${d.healthUrl}` : ''})`;

export const registerDeploy: RegisterCommand = (program, { io, state }) => {
  const deploy = program.command('deploy').description('bind releases to the upstream endpoints that serve them');

  deploy
    .command('add')
    .description("add a deployment: a release served at upstream URL(s); an agent's first deployment becomes its stable release")
    .argument('<release>', 'agent@version or sha256:<digest> (registered with `sluice release register`)')
    .requiredOption('--upstream <url>', 'base URL of an endpoint serving the release (repeat for several)', collect)
    .option('--health <url>', 'health check URL of the deployment')
    .option('--match-host <host>', 'route requests for this Host to the agent')
    .option('--match-path-prefix <prefix>', 'route requests under this path to the agent')
    .option('--match-header <name=value>', 'route requests carrying this header to the agent')
    .action(
      action<[string], AddOptions>(io, state, async ([release], opts, globals) => {
        const match = matchFrom(opts);
        const d = await clientFor(globals).command<DeploymentRecord>('/v1/deployments', {
          release,
          upstreams: opts.upstream,
          ...(opts.health ? { healthUrl: opts.health } : {}),
          ...(match ? { match } : {}),
        });
        return { data: d, text: `deployed ${row(d)}` };
      }),
    );

  deploy
    .command('list')
    .description('list deployments')
    .option('--agent <name>', 'only this agent')
    .action(
      action<[], { agent?: string }>(io, state, async (_args, opts, globals) => {
        const r = await clientFor(globals).get<{ deployments: DeploymentRecord[] }>('/v1/deployments', { query: { agent: opts.agent } });
        return { data: r.deployments, text: r.deployments.length ? r.deployments.map(row) : 'no deployments' };
      }),
    );
};
