import { action } from '../program.js';
import { clientFor } from '../../control/client.js';
import type { AuditVerdict } from '../../control/audit/chain.js';
import type { RegisterCommand } from './context.js';

export const registerAudit: RegisterCommand = (program, { io, state }) => {
  const audit = program.command('audit').description('check the tamper-evident audit log');
  audit
    .command('verify')
    .description('walk the hash chain; name every edited or deleted row (exit 1 if any)')
    .action(
      action(io, state, async (_args, _opts, globals) => {
        const v = await clientFor(globals).get<AuditVerdict>('/v1/audit/verify');
        const text = v.ok
          ? `audit log intact: ${v.rows} events, head ${v.head ? `#${v.head.seq} ${v.head.hash}` : '(empty)'}`
          : [`audit log TAMPERED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} in ${v.rows} events`, ...v.problems.map((p) => `  ${p.message}`)];
        return { data: v, text, exitCode: v.ok ? 0 : 1 };
      }),
    );
};
