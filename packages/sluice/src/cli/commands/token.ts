import { Option } from 'commander';
import { action } from '../program.js';
import { clientFor } from '../../control/client.js';
import { ROLES } from '../../control/auth/roles.js';
import type { TokenInfo } from '../../control/auth/tokens.js';
import type { RegisterCommand } from './context.js';

const row = (t: TokenInfo) => `${t.id}  ${t.role.padEnd(8)}  ${t.subject}${t.revokedAt ? `  (revoked ${t.revokedAt})` : ''}`;

export const registerToken: RegisterCommand = (program, { io, state }) => {
  const token = program.command('token').description('create, list and revoke API tokens (admin)');

  token
    .command('create')
    .description('create a token; its secret is printed once and never stored')
    .addOption(new Option('--role <role>', 'what the token may do').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--subject <name>', 'who holds it: a person or a service, shown in the audit log')
    .action(
      action<[], { role: string; subject: string }>(io, state, async (_args, opts, globals) => {
        const r = await clientFor(globals).command<{ token: string; info: TokenInfo }>('/v1/tokens', { role: opts.role, subject: opts.subject });
        return { data: r, text: [`created ${r.info.id} (${r.info.role}) for ${r.info.subject}`, '', `  ${r.token}`, '', 'This secret is shown once; store it now.'] };
      }),
    );

  token
    .command('list')
    .description('list tokens (ids, roles, subjects; never secrets)')
    .action(
      action(io, state, async (_args, _opts, globals) => {
        const r = await clientFor(globals).get<{ tokens: TokenInfo[] }>('/v1/tokens');
        return { data: r.tokens, text: r.tokens.length ? r.tokens.map(row) : 'no tokens' };
      }),
    );

  token
    .command('revoke')
    .description('revoke a token: every call with it is refused from now on')
    .argument('<id>', 'token id, e.g. tok_1a2b3c4d5e6f')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      action<[string], { reason?: string }>(io, state, async ([id], opts, globals) => {
        const r = await clientFor(globals).command<TokenInfo>(`/v1/tokens/${encodeURIComponent(id)}/revoke`, opts.reason ? { reason: opts.reason } : {});
        return { data: r, text: `revoked ${row(r)}` };
      }),
    );
};
