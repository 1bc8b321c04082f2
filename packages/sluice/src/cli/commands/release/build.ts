/** `sluice release build [dir]`: agent.yaml and its files → one content-addressed release in the store. */
import type { Command } from 'commander';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';
import { buildRelease } from '../../../release/build.js';
import { ReleaseStore } from '../../../release/store.js';

interface BuildOptions {
  dryRun?: boolean;
}

export function registerBuild(release: Command, { io, state }: CliContext): void {
  release
    .command('build')
    .description('validate agent.yaml, hash every component and store the release')
    .argument('[dir]', 'agent directory containing agent.yaml', '.')
    .option('--dry-run', 'validate and print the digest without writing to the store')
    .addHelpText(
      'after',
      `
The release digest is the SHA-256 of the manifest in RFC 8785 canonical JSON: the same
source gives the same digest on any machine. Nothing is written unless everything is valid.

Examples:
  $ sluice release build
  $ sluice release build examples/support-agent --json
  $ sluice release build --dry-run`,
    )
    .action(
      action<[string], BuildOptions>(io, state, async ([dir], opts, globals) => {
        const store = opts.dryRun ? undefined : ReleaseStore.open(globals.store);
        const r = await buildRelease(dir, store);
        const components = r.manifest.components.map((c) => ({
          kind: c.kind,
          name: c.name,
          mediaType: c.mediaType,
          digest: c.digest,
          size: c.size,
          ...(c.source !== undefined ? { source: c.source } : {}),
        }));
        const note = !r.stored ? ' (dry run: not stored)' : r.created ? '' : ' (unchanged: already in the store)';
        return {
          data: { ref: r.ref, digest: r.digest, stored: r.stored, created: r.created, store: r.stored ? globals.store : undefined, components },
          text: `${r.ref} ${r.digest}${note}`,
        };
      }),
    );
}
