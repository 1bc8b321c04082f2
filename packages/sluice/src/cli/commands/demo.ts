/** `sluice demo`: a real canary of the example agent that catches a real regression, in two minutes. */
import { invalid } from '@sluice/core';
import { action, intOption } from '../program.js';
import { DEFAULT_OPTIONS, FAST_OPTIONS, runDemo, type DemoOptions } from '../../demo/run.js';
import { resultLines, snapshotLines, snapshotPlain } from '../../demo/view.js';
import type { RegisterCommand } from './context.js';

interface DemoFlags {
  seed?: number;
  rate?: number;
  concurrency?: number;
  weight?: number;
  timeout?: number;
  fast?: boolean;
  keep?: boolean;
}

export const registerDemo: RegisterCommand = (program, { io, state }) => {
  program
    .command('demo')
    .description('run a canary of the example agent on a throwaway Sluice and watch it catch a regression and roll back')
    .option('--seed <n>', 'seed of the customer messages', intOption('--seed'), DEFAULT_OPTIONS.seed)
    .option('--rate <n>', `new sessions per second (default: ${DEFAULT_OPTIONS.rate}, ${FAST_OPTIONS.rate} with --fast)`, intOption('--rate'))
    .option('--concurrency <n>', `most sessions in flight at once (default: ${DEFAULT_OPTIONS.concurrency}, ${FAST_OPTIONS.concurrency} with --fast)`, intOption('--concurrency'))
    .option('--weight <percent>', 'canary weight of the first step, 1 to 50', intOption('--weight'), DEFAULT_OPTIONS.weight)
    .option('--timeout <seconds>', 'give up (and fail) after this long', intOption('--timeout'), DEFAULT_OPTIONS.timeoutMs / 1000)
    .option('--fast', 'customers arrive twice as fast (what the tests run)')
    .option('--keep', 'keep the data directory (store, releases, key) to explore it afterwards')
    .addHelpText(
      'after',
      `
Everything runs on 127.0.0.1 with free ports and a temporary directory: the control plane on an
embedded store, the gateway, telemetry and analysis in this process; the example's model server;
one agent process per release. Releases 2.3.0 and 2.3.1 of examples/support-agent are built,
signed with a throwaway key, registered and deployed; a canary of 2.3.1 starts at --weight and
the analysis judges escalation_rate every second. Exit status 0 when the analysis caught the
regression and rolled it back, 1 otherwise. docs/demo.md explains the output.

Examples:
  $ npx sluice demo
  $ npx sluice demo --json > result.json
  $ npx sluice demo --keep --seed 7`,
    )
    .action(
      action<[], DemoFlags>(io, state, async (_args, flags, globals) => {
        const base = flags.fast ? FAST_OPTIONS : DEFAULT_OPTIONS;
        if (flags.weight !== undefined && !(flags.weight >= 1 && flags.weight <= 50))
          throw invalid('--weight: expected a canary weight between 1 and 50 percent', [{ where: '--weight', message: 'out of range' }]);
        for (const [name, v] of [['--rate', flags.rate], ['--concurrency', flags.concurrency], ['--timeout', flags.timeout]] as const)
          if (v !== undefined && v < 1) throw invalid(`${name}: expected a positive whole number`, [{ where: name, message: 'must be at least 1' }]);
        const controller = new AbortController();
        const interrupt = () => controller.abort();
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        const live = liveOutput(io.stdout, !globals.json && process.stdout.isTTY === true, globals.json);
        const options: Partial<DemoOptions> = {
          ...base,
          seed: flags.seed ?? base.seed,
          rate: flags.rate ?? base.rate,
          concurrency: flags.concurrency ?? base.concurrency,
          weight: flags.weight ?? base.weight,
          timeoutMs: (flags.timeout ?? base.timeoutMs / 1000) * 1000,
          keep: flags.keep ?? false,
          signal: controller.signal,
          ...live,
        };
        try {
          const result = await runDemo(options);
          return { data: result, text: resultLines(result), exitCode: result.caught ? 0 : 1 };
        } finally {
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
      }),
    );
};

/** Steps as lines; progress as a block redrawn in place on a terminal, else one line a second. */
function liveOutput(write: (s: string) => void, tty: boolean, quiet: boolean): Pick<DemoOptions, 'onStep' | 'onProgress'> {
  if (quiet) return {};
  let drawn = 0;
  return {
    onStep: (line) => write(`${line}\n`),
    onProgress: (s) => {
      if (!tty) return write(`${snapshotPlain(s)}\n`);
      const lines = snapshotLines(s);
      // Up over the last block, then each line cleared and rewritten.
      write(`${drawn > 0 ? `\x1b[${drawn}F` : '\n'}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
      drawn = lines.length;
    },
  };
}
