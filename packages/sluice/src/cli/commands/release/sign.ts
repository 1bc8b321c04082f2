/** `sluice release sign <ref> --key <path>`: a DSSE envelope over the manifest, stored beside the release. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { invalid, keyIdOf, parsePrivateKey, signEnvelope } from '@sluice/core';
import { createPublicKey } from 'node:crypto';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';
import { ReleaseStore } from '../../../release/store.js';
import { checkIntegrity } from '../../../release/verify.js';

interface SignOptions {
  key: string;
}

export function registerSign(release: Command, { io, state }: CliContext): void {
  release
    .command('sign')
    .description('sign a release with an Ed25519 key (a DSSE envelope stored beside it)')
    .argument('<ref>', 'agent@version, agent@sha256:<digest> or sha256:<digest>')
    .requiredOption('--key <path>', 'private key (PKCS#8 PEM) made by `sluice keygen`')
    .addHelpText('after', '\nThe release is checked for integrity before it is signed.\n\nExample:\n  $ sluice release sign support-agent@2.3.1 --key ~/.sluice/release.key')
    .action(
      action<[string], SignOptions>(io, state, async ([ref], opts, globals) => {
        const pem = await readFile(opts.key, 'utf8').catch((err: Error) => {
          throw invalid(`--key ${opts.key}: cannot read it (${err.message})`, [{ where: opts.key, message: 'unreadable' }]);
        });
        const keyid = keyIdOf(createPublicKey(parsePrivateKey(pem, opts.key)));
        const store = ReleaseStore.open(globals.store);
        const { release: r } = await checkIntegrity(store, ref);
        const envelope = signEnvelope(r.manifestBytes, pem);
        const stored = await store.putSignature(r.digest, envelope);
        return {
          data: { ref: r.ref, digest: r.digest, keyid, signature: stored.digest },
          text: `signed ${r.ref} ${r.digest} with key ${keyid}`,
        };
      }),
    );
}
