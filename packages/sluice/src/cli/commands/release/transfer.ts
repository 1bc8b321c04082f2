/**
 * `sluice release push` and `sluice release pull`: move releases between the local store and
 * any OCI registry (distribution spec). The release travels as an OCI artifact with its
 * signatures as referrers; digests are the same on both sides.
 */
import type { Command } from 'commander';
import { invalid, shortDigest } from '@sluice/core';
import { DistributionRegistry, credentialsFromEnv, formatRemoteReference, isValidTag, parseRemoteReference } from '../../../adapters/registry/distribution/index.js';
import { OciLayoutRegistry } from '../../../adapters/registry/oci-layout/index.js';
import { ReleaseStore } from '../../../release/store.js';
import { copyRelease, type TransferEvent, type TransferResult } from '../../../release/transfer.js';
import type { Io } from '../../output.js';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';

interface TransferOptions {
  insecure?: boolean;
}

const REGISTRY_HELP = `
Registry references are host[:port]/repository[:tag], e.g. registry.example.com/agents/support:2.3.1.
Credentials come from SLUICE_REGISTRY_USER and SLUICE_REGISTRY_PASSWORD (Basic, or exchanged for a
Bearer token when the registry asks for one). Plain HTTP is used only for loopback hosts
(localhost, 127.0.0.0/8, ::1) unless --insecure is given.`;

export function registerTransfer(release: Command, { io, state }: CliContext): void {
  release
    .command('push')
    .description('copy a release and its signatures from the local store to an OCI registry')
    .argument('<ref>', 'release in the local store: agent@version, agent@sha256:<digest> or sha256:<digest>')
    .argument('<target>', 'registry/repository[:tag]; the tag defaults to the release version')
    .option('--insecure', 'allow plain HTTP and unverified TLS for a registry that is not on loopback')
    .addHelpText('after', `${REGISTRY_HELP}\n\nExample:\n  $ sluice release push support-agent@2.3.1 registry.example.com/agents/support:2.3.1\n`)
    .action(
      action<[string, string], TransferOptions>(io, state, async ([ref, target], opts, globals) => {
        const dest = parseRemoteReference(target, 'target');
        if (dest.digest) throw invalid(`target: push to a tag, not a digest (${target})`, [{ where: 'target', message: 'expected registry/repository[:tag]' }]);
        const store = ReleaseStore.open(globals.store);
        const resolved = await store.resolve(ref);
        const tag = dest.tag ?? tagForVersion(resolved.version);
        const remote = new DistributionRegistry(dest, { insecure: opts.insecure === true, credentials: credentialsFromEnv() });
        try {
          await remote.ping();
          const result = await copyRelease(store.registry, remote, resolved.imageManifest.digest, {
            tag,
            onProgress: globals.json ? undefined : progress(io, 'push'),
          });
          const where = formatRemoteReference({ ...dest, tag });
          return report(result, 'pushed', 'to', where, { target: where, registry: dest.registry, repository: dest.repository });
        } finally {
          await remote.close();
        }
      }),
    );

  release
    .command('pull')
    .description('copy a release and its signatures from an OCI registry into the local store')
    .argument('<source>', 'registry/repository:tag or registry/repository@sha256:<image manifest digest>')
    .option('--insecure', 'allow plain HTTP and unverified TLS for a registry that is not on loopback')
    .addHelpText(
      'after',
      `${REGISTRY_HELP}\n\nEvery blob is fetched and checked against its digest before anything is written to the\nstore (--store), so a failed pull leaves the store as it was.\n\nExample:\n  $ sluice release pull registry.example.com/agents/support:2.3.1 --store .sluice/store\n`,
    )
    .action(
      action<[string], TransferOptions>(io, state, async ([source], opts, globals) => {
        const src = parseRemoteReference(source, 'source');
        const reference = src.digest ?? src.tag;
        if (!reference) throw invalid(`source: name a tag or a digest to pull (${source})`, [{ where: 'source', message: 'expected registry/repository:tag or registry/repository@sha256:…' }]);
        const remote = new DistributionRegistry(src, { insecure: opts.insecure === true, credentials: credentialsFromEnv() });
        try {
          await remote.ping();
          const local = new OciLayoutRegistry(globals.store);
          const result = await copyRelease(remote, local, reference, { onProgress: globals.json ? undefined : progress(io, 'pull') });
          return report(result, 'pulled', 'into', globals.store, { source: formatRemoteReference(src), registry: src.registry, repository: src.repository, store: globals.store });
        } finally {
          await remote.close();
        }
      }),
    );
}

/** A version as a registry tag: semver's `+build` is not allowed in tags, so `+` becomes `_`. */
export function tagForVersion(version: string): string {
  const tag = version.replace(/[^\w.-]/g, '_');
  if (!isValidTag(tag)) throw invalid(`version ${JSON.stringify(version)} cannot be a registry tag; give one in the target`, [{ where: 'target', message: 'add :<tag>' }]);
  return tag;
}

function report(result: TransferResult, verb: string, prep: string, where: string, extra: Record<string, string>) {
  const { blobs } = result;
  return {
    data: {
      ref: result.ref,
      agent: result.agent,
      version: result.version,
      ...extra,
      tag: result.tag,
      manifestDigest: result.imageManifest.digest,
      releaseDigest: result.releaseDigest,
      blobs,
      signatures: result.signatures,
    },
    text: [
      `${verb} ${result.ref} ${prep} ${where}`,
      `  manifest    ${result.imageManifest.digest}`,
      `  release     ${result.releaseDigest}`,
      `  blobs       ${blobs.copied} copied (${formatBytes(blobs.bytes)}), ${blobs.present} already there`,
      `  signatures  ${result.signatures.length}`,
    ],
  };
}

/** One line per blob on stderr, for people watching a slow registry; never under --json. */
function progress(io: Io, direction: 'push' | 'pull') {
  return (e: TransferEvent) => {
    // A push reads from the local disk: only the writes are news. A pull shows each verified fetch.
    if (direction === 'push' && e.step === 'fetched') return;
    if (direction === 'pull' && e.step === 'stored' && e.what !== 'manifest') return;
    const verb = e.step === 'exists' ? 'exists' : direction === 'push' ? 'pushed' : e.step === 'fetched' ? 'verified' : 'stored';
    io.stderr(`${verb.padEnd(8)} ${e.what.padEnd(9)} ${shortDigest(e.digest)}  ${formatBytes(e.size).padStart(9)}${e.title ? `  ${e.title}` : ''}\n`);
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

