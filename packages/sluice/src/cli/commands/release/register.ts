import type { Command } from 'commander';
import { action } from '../../program.js';
import { clientFor } from '../../../control/client.js';
import type { ReleaseRecord } from '../../../control/services/releases.js';
import { ReleaseStore } from '../../../release/store.js';
import type { CliContext } from '../context.js';

/** `sluice release register <ref>`: send a built release (manifest + signatures) to the control plane. */
export function registerRegister(release: Command, { io, state }: CliContext): void {
  release
    .command('register')
    .description('register a built release with the control plane (manifest and signatures, by digest)')
    .argument('<release>', 'agent@version or sha256:<digest> in the local store')
    .action(
      action<[string], Record<string, never>>(io, state, async ([ref], _opts, globals) => {
        const store = ReleaseStore.open(globals.store);
        const local = await store.resolve(ref);
        const envelopes = (await store.signatures(local.digest)).map((s) => s.envelope);
        const r = await clientFor(globals).command<ReleaseRecord>('/v1/releases', { manifest: local.manifest, envelopes, digest: local.digest });
        const v = r.verification;
        const trust = v.keyid ? `signed by trusted key ${v.keyid}` : v.ok ? `${envelopes.length} signature(s), none required` : `NOT servable: ${v.reason}`;
        return { data: r, text: [`registered ${r.ref} ${r.digest}`, `  ${trust}`], exitCode: v.ok ? 0 : 1 };
      }),
    );
}
