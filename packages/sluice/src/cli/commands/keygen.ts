/** `sluice keygen --out <path>`: an Ed25519 key pair for signing releases. */
import { access, chmod, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateSigningKey, invalid } from '@sluice/core';
import { action } from '../program.js';
import type { RegisterCommand } from './context.js';

interface KeygenOptions {
  out: string;
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw invalid(`${path} already exists; keygen never overwrites a key`, [{ where: path, message: 'exists' }]);
    throw err;
  }
  try {
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  await chmod(path, mode); // the umask may have narrowed it; make it exactly what we mean
}

export const registerKeygen: RegisterCommand = (program, { io, state }) => {
  program
    .command('keygen')
    .description('create an Ed25519 key pair for signing releases')
    .requiredOption('--out <path>', 'private key file (PKCS#8 PEM, mode 0600); the public key goes to <path>.pub')
    .addHelpText('after', '\nThe key id is the SHA-256 of the public key (SubjectPublicKeyInfo DER).\n\nExample:\n  $ sluice keygen --out ~/.sluice/release.key')
    .action(
      action<[], KeygenOptions>(io, state, async (_args, opts) => {
        const priv = opts.out;
        const pub = `${priv}.pub`;
        for (const p of [priv, pub]) {
          const exists = await access(p).then(() => true, () => false);
          if (exists) throw invalid(`${p} already exists; keygen never overwrites a key`, [{ where: p, message: 'exists' }]);
        }
        await mkdir(dirname(priv), { recursive: true });
        const key = generateSigningKey();
        await writeNew(priv, key.privateKeyPem, 0o600);
        await writeNew(pub, key.publicKeyPem, 0o644);
        return {
          data: { keyid: key.keyid, privateKey: priv, publicKey: pub },
          text: [`wrote ${priv} (private, keep it secret) and ${pub}`, `key id ${key.keyid}`],
        };
      }),
    );
};
