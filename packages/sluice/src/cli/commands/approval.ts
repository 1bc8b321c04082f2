import { Option } from 'commander';
import { action } from '../program.js';
import { clientFor } from '../../control/client.js';
import type { ApprovalRecord } from '../../control/services/approvals.js';
import type { RegisterCommand } from './context.js';

const row = (a: ApprovalRecord) =>
  `${a.id}  ${a.status.padEnd(8)}  ${a.action} (${a.risk}${a.external ? ', external' : ''})  asked by ${a.requestedBy}` +
  `${a.session ? ` for session ${a.session}` : ''}${a.release ? ` on ${a.release}` : ''}${a.reason ? `  — ${a.reason}` : ''}` +
  `${a.decidedBy ? `  [${a.status} by ${a.decidedBy}]` : ''}`;

export const registerApproval: RegisterCommand = (program, { io, state }) => {
  const approval = program.command('approval').description('decide the agent actions waiting for a person (high-risk=approve windows)');

  approval
    .command('list')
    .description('approvals, oldest first (default: the pending backlog)')
    .addOption(new Option('--status <status>', 'which ones').choices(['pending', 'approved', 'denied', 'all']).default('pending'))
    .action(
      action<[], { status: string }>(io, state, async (_args, opts, globals) => {
        const r = await clientFor(globals).get<{ approvals: ApprovalRecord[] }>('/v1/approvals', { query: { status: opts.status === 'all' ? undefined : opts.status } });
        return { data: r.approvals, text: r.approvals.length ? r.approvals.map(row) : `no ${opts.status === 'all' ? '' : `${opts.status} `}approvals` };
      }),
    );

  for (const [verb, done] of [['approve', 'approved'], ['deny', 'denied']] as const) {
    approval
      .command(verb)
      .description(`${verb} a pending action (needs the approver role, and not the identity that asked)`)
      .argument('<id>', 'approval id, e.g. apr_1a2b3c4d5e6f')
      .option('--reason <text>', 'why, for the audit log')
      .action(
        action<[string], { reason?: string }>(io, state, async ([id], opts, globals) => {
          const r = await clientFor(globals).command<ApprovalRecord>(`/v1/approvals/${encodeURIComponent(id)}/${verb}`, opts.reason ? { reason: opts.reason } : {});
          return { data: r, text: `${done} ${row(r)}` };
        }),
      );
  }
};
