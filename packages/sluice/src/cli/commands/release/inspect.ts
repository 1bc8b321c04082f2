/**
 * `sluice release inspect <ref>`: what one release pins, read from the local store. Inline
 * values (model, runtime, policies, ...) are summarized on one line each; `--json` gives the
 * whole manifest. Signatures are listed, not verified: that is `sluice release verify`.
 */
import type { Command } from 'commander';
import { shortDigest, type Component, type JsonValue } from '@sluice/core';
import { ReleaseStore } from '../../../release/store.js';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';

export function registerInspect(release: Command, { io, state }: CliContext): void {
  release
    .command('inspect')
    .description('show what a release pins: components, digests, sizes, sources, tool risks, signatures')
    .argument('<ref>', 'agent@version, agent@sha256:<digest> or sha256:<digest> (a 6+ digit prefix works)')
    .addHelpText('after', '\nExamples:\n  $ sluice release inspect support-agent@2.3.1\n  $ sluice release inspect sha256:3f2a9c --json\n')
    .action(
      action<[string], Record<string, never>>(io, state, async ([ref], _opts, globals) => {
        const store = ReleaseStore.open(globals.store);
        const r = await store.resolve(ref);
        const signatures = (await store.signatures(r.digest)).flatMap((s) => s.envelope.signatures.map((sig) => ({ keyid: sig.keyid ?? '', manifest: s.descriptor.digest })));
        const m = r.manifest;
        const tools = m.components.filter((c) => c.kind === 'tool').map((c) => ({ name: c.name, risk: c.risk ?? null, external: c.external === true, tags: c.tags ?? [] }));
        const data = {
          ref: r.ref,
          agent: m.agent,
          version: m.version,
          digest: r.digest,
          mediaType: m.mediaType,
          imageManifest: r.imageManifest.digest,
          components: m.components,
          tools,
          signatures,
        };
        return { data, text: render(data, m.components) };
      }),
    );
}

function render(d: { ref: string; digest: string; imageManifest: string; signatures: Array<{ keyid: string }> }, components: Component[]): string[] {
  const sigs = d.signatures.length === 0 ? 'none' : `${d.signatures.length} (key ${d.signatures.map((s) => s.keyid || '?').join(', ')}; run \`sluice release verify\` to check)`;
  const rows = components.map((c) => [c.kind, c.name, shortDigest(c.digest), bytes(c.size), describe(c)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...['KIND', 'NAME', 'DIGEST', 'SIZE'].map((h, j) => (j === i ? h.length : 0)), ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => [r[0]!.padEnd(widths[0]!), r[1]!.padEnd(widths[1]!), r[2]!.padEnd(widths[2]!), r[3]!.padStart(widths[3]!), r[4]].join('  ').trimEnd();
  return [
    d.ref,
    `  digest      ${d.digest}`,
    `  artifact    ${d.imageManifest}`,
    `  signatures  ${sigs}`,
    '',
    `components (${components.length})`,
    `  ${line(['KIND', 'NAME', 'DIGEST', 'SIZE', 'DETAILS'])}`,
    ...rows.map((r) => `  ${line(r)}`),
  ];
}

/** Source file for blobs, a one-line summary for inline values, and tool facts. */
function describe(c: Component): string {
  const parts: string[] = [];
  if (c.kind === 'tool') {
    parts.push(`risk ${c.risk ?? 'unset'}`);
    if (c.external) parts.push('external');
    if (c.tags && c.tags.length > 0) parts.push(`tags ${c.tags.join(',')}`);
  }
  if (c.value !== undefined) parts.push(summarize(c));
  if (c.source) parts.push(c.source);
  return parts.join('  ');
}

function summarize(c: Component): string {
  const v = c.value!;
  if (c.kind === 'model' && isRecord(v)) {
    const params = isRecord(v.params) ? flat(v.params) : '';
    return `${String(v.provider)}/${String(v.name)}${params ? ` ${params}` : ''}`;
  }
  if (c.kind === 'secrets' && Array.isArray(v)) return `${v.join(', ')} (names only)`;
  if (c.kind === 'integrations' && Array.isArray(v)) {
    return v.map((i) => (isRecord(i) ? `${String(i.name)}[${Array.isArray(i.scopes) ? i.scopes.join(',') : ''}]` : JSON.stringify(i))).join(' ');
  }
  return flat(v);
}

/** `a.b=1 c="x"`: a JSON value as dotted leaves on one line. */
function flat(v: JsonValue, prefix = ''): string {
  if (isRecord(v) && Object.keys(v).length > 0) {
    return Object.entries(v)
      .map(([k, x]) => flat(x, prefix ? `${prefix}.${k}` : k))
      .join(' ');
  }
  const s = JSON.stringify(v);
  return prefix ? `${prefix}=${s}` : s;
}

function isRecord(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
