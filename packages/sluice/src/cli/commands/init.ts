/** `sluice init [dir]`: scaffold an agent.yaml and the files it references. */
import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AGENT_NAME_RE, invalid } from '@sluice/core';
import { action } from '../program.js';
import type { RegisterCommand } from './context.js';
import { initTemplate } from '../../release/init-template.js';

interface InitOptions {
  force?: boolean;
  agent: string;
}

export const registerInit: RegisterCommand = (program, { io, state }) => {
  program
    .command('init')
    .description('scaffold an agent.yaml with example prompts, tool schemas and a memory schema')
    .argument('[dir]', 'directory to create the agent in', '.')
    .option('--agent <name>', 'agent name', 'support-agent')
    .option('--force', 'overwrite existing files')
    .addHelpText('after', '\nThe scaffold builds as-is:\n  $ sluice init my-agent && sluice release build my-agent')
    .action(
      action<[string], InitOptions>(io, state, async ([dir], opts) => {
        if (!AGENT_NAME_RE.test(opts.agent)) throw invalid(`--agent: expected a lowercase name of letters, digits and -, like support-agent`, [{ where: '--agent', message: opts.agent }]);
        const files = initTemplate(opts.agent);
        const paths = Object.keys(files);
        if (!opts.force) {
          const existing: string[] = [];
          for (const p of paths) if (await access(join(dir, p)).then(() => true, () => false)) existing.push(p);
          if (existing.length > 0) {
            throw invalid(`${join(dir, existing[0]!)} already exists; use --force to overwrite`, existing.map((p) => ({ where: join(dir, p), message: 'exists' })));
          }
        }
        for (const [p, text] of Object.entries(files)) {
          await mkdir(dirname(join(dir, p)), { recursive: true });
          await writeFile(join(dir, p), text);
        }
        return {
          data: { dir, agent: opts.agent, files: paths },
          text: [`created ${opts.agent} in ${dir}:`, ...paths.map((p) => `  ${p}`), '', `next: sluice release build${dir === '.' ? '' : ` ${dir}`}`],
        };
      }),
    );
};
