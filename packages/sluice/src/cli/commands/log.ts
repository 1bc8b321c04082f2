import { invalid, parseDuration } from '@sluice/core';
import { action, intOption } from '../program.js';
import { clientFor } from '../../control/client.js';
import type { AuditRow } from '../../control/audit/chain.js';
import { changelogEntry, changelogLines } from '../../control/audit/changelog.js';
import type { RegisterCommand } from './context.js';

/** `--since 2h` (a duration back from now) or an ISO time. */
export function sinceToIso(since: string, now = Date.now()): string {
  const ms = parseDuration(since);
  if (ms !== undefined) return new Date(now - ms).toISOString();
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw invalid(`--since: expected a duration like 2h or an ISO time, got ${JSON.stringify(since)}`, [{ where: '--since', message: 'not a duration or time' }]);
  return new Date(t).toISOString();
}

export const registerLog: RegisterCommand = (program, { io, state }) => {
  program
    .command('log')
    .description('the changelog: who changed what, when and why, from the audit log')
    .option('--agent <name>', 'only changes to this agent')
    .option('--since <when>', 'only changes since a duration ago (2h, 1d) or an ISO time')
    .option('--limit <n>', 'at most this many of the newest events', intOption('--limit'), 200)
    .action(
      action<[], { agent?: string; since?: string; limit: number }>(io, state, async (_args, opts, globals) => {
        const r = await clientFor(globals).get<{ events: AuditRow[] }>('/v1/audit', {
          query: { agent: opts.agent, since: opts.since ? sinceToIso(opts.since) : undefined, limit: opts.limit },
        });
        return { data: r.events, text: r.events.length ? changelogLines(r.events.map(changelogEntry)) : 'no changes' };
      }),
    );
};
