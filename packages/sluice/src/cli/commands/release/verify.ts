/** `sluice release verify <ref> --trusted <pubkey>…`: integrity and a trusted signature, or exit 1 with the reason. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { invalid, parsePublicKey } from '@sluice/core';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';
import { ReleaseStore } from '../../../release/store.js';
import { verifyRelease } from '../../../release/verify.js';

interface VerifyOptions {
  trusted: string[];
}

export function registerVerify(release: Command, { io, state }: CliContext): void {
  release
    .command('verify')
    .description('check every blob against the manifest and a signature by a trusted key')
    .argument('<ref>', 'agent@version, agent@sha256:<digest> or sha256:<digest>')
    .requiredOption('--trusted <pubkey...>', 'trusted public keys (SPKI PEM files, e.g. from `sluice keygen`)')
    .addHelpText(
      'after',
      `
Exits 0 when the release is intact and signed by a trusted key; 1 with the reason otherwise:
  tampered blob       a component's bytes no longer match its digest (the component is named)
  tampered manifest   the manifest no longer matches the release digest or the signed payload
  missing signature   the release has no signature
  wrong key           it is signed, but not by any trusted key

Example:
  $ sluice release verify support-agent@2.3.1 --trusted release.key.pub`,
    )
    .action(
      action<[string], VerifyOptions>(io, state, async ([ref], opts, globals) => {
        const pems: string[] = [];
        for (const path of opts.trusted) {
          const pem = await readFile(path, 'utf8').catch((err: Error) => {
            throw invalid(`--trusted ${path}: cannot read it (${err.message})`, [{ where: path, message: 'unreadable' }]);
          });
          parsePublicKey(pem, path);
          pems.push(pem);
        }
        const r = await verifyRelease(ReleaseStore.open(globals.store), ref, pems);
        return {
          data: r,
          text: `verified ${r.ref} ${r.digest}: ${r.components} components intact, signed by ${r.keyid}`,
        };
      }),
    );
}
