/**
 * `sluice release diff <a> <b>`: the component-level diff of two releases in the local store,
 * the concerns it touches and its change class with every reason. The diff and the rules are
 * `diffReleases` in @sluice/core; this module only reads the store and the policy file, and
 * prints. It exits 0 whatever the class: a large change is not an error. CI scripts that want a
 * gate use `--fail-on <class>`, which exits 1 when the class is at least that.
 */
import { Option, type Command } from 'commander';
import { classAtLeast, DEFAULT_POLICY, describeField, shortDigest, type ChangeClass, type ReleaseDiff, type SchemaCompatibility } from '@sluice/core';
import { diffStoredReleases, loadClassificationPolicy } from '../../../release/diff.js';
import { ReleaseStore } from '../../../release/store.js';
import { action } from '../../program.js';
import type { CliContext } from '../context.js';

interface DiffOptions {
  policy?: string;
  failOn?: Exclude<ChangeClass, 'none'>;
}

const HELP = `
The change class is the highest class among the rules that fired (docs/classification.md):
  small   prompt-only changes
  medium  model, compatible tools, approval rules, runtime, secrets, integrations,
          compatible memory schema, orchestration
  large   vendor swap, breaking tool contract, breaking memory schema, any change to a tool
          tagged money or customer-data, or more than two concerns at once

Exit status is 0 whatever the class; with --fail-on, 1 when the class is at least that.

Examples:
  $ sluice release diff support-agent@2.3.1 support-agent@2.4.0
  $ sluice release diff support-agent@2.3.1 support-agent@2.4.0 --policy ops/classification.yaml --fail-on large
  $ sluice release diff support-agent@2.3.1 support-agent@2.4.0 --json | jq .classification
`;

export function registerDiff(release: Command, { io, state }: CliContext): void {
  release
    .command('diff')
    .description('compare two releases: what changed, the concerns touched and the change class')
    .argument('<a>', 'the baseline release: agent@version, agent@sha256:<digest> or sha256:<digest>')
    .argument('<b>', 'the candidate release')
    .option('--policy <file>', 'classification policy (YAML) that overrides the default rules')
    .addOption(new Option('--fail-on <class>', 'exit 1 when the change class is at least this').choices(['small', 'medium', 'large']))
    .addHelpText('after', HELP)
    .action(
      action<[string, string], DiffOptions>(io, state, async ([refA, refB], opts, globals) => {
        const policy = opts.policy ? await loadClassificationPolicy(opts.policy) : DEFAULT_POLICY;
        const diff = await diffStoredReleases(ReleaseStore.open(globals.store), refA, refB, policy);
        const failed = opts.failOn !== undefined && classAtLeast(diff.classification.class, opts.failOn);
        const text = render(diff);
        if (failed) text.push('', `failing: class ${diff.classification.class} is at least --fail-on ${opts.failOn}`);
        return { data: { ...diff, policy: opts.policy ?? null, failOn: opts.failOn ?? null, failed }, text, exitCode: failed ? 1 : 0 };
      }),
    );
}

function render(d: ReleaseDiff): string[] {
  const c = d.classification;
  const out: string[] = [
    `${d.from.agent}@${d.from.version} → ${d.to.agent}@${d.to.version}`,
    `  ${shortDigest(d.from.digest)} → ${shortDigest(d.to.digest)}${d.identical ? ' (identical)' : ''}`,
    '',
    `class: ${c.class}${d.concerns.length > 0 ? ` (concerns: ${d.concerns.join(', ')})` : ' (no concern touched)'}`,
    ...c.reasons.map((r) => `  [${r.class}] ${r.rule === 'concern' ? r.concern : r.rule}: ${r.message}`),
    ...c.warnings.map((w) => `warning: ${w}`),
  ];
  const section = (title: string, lines: string[]) => {
    if (lines.length > 0) out.push('', title, ...lines.map((l) => `  ${l}`));
  };
  section('model', [...(d.model?.vendorSwap ? [`vendor swap: ${d.model.provider?.before} → ${d.model.provider?.after}`] : []), ...(d.model?.fields ?? []).map((f) => describeField(f, 'model'))]);
  section(
    'prompts',
    d.prompts.flatMap((p) => [
      `${p.name}: ${p.change} (+${p.linesAdded} −${p.linesRemoved} lines)`,
      ...(p.patch ? p.patch.trimEnd().split('\n').map((l) => `  ${l}`) : ['  (text unavailable)']),
    ]),
  );
  section(
    'tools',
    d.tools.flatMap((t) => {
      const facts = [
        t.change,
        t.schema ? `schema ${t.schema.level}` : undefined,
        t.risk ? `risk ${t.risk.before ?? 'unset'} → ${t.risk.after ?? 'unset'}` : undefined,
        t.external ? `external ${t.external.before} → ${t.external.after}` : undefined,
        t.tags ? `tags ${[...t.tags.added.map((x) => `+${x}`), ...t.tags.removed.map((x) => `-${x}`)].join(' ')}` : undefined,
        t.sensitiveTags.length > 0 ? `sensitive: ${t.sensitiveTags.join(', ')}` : undefined,
        t.breaking ? 'BREAKING' : undefined,
      ].filter(Boolean);
      return [`${t.name}: ${facts.join(', ')}`, ...findings(t.schema)];
    }),
  );
  if (d.memory) section('memory', [`schema ${d.memory.change}${d.memory.compatibility ? `: ${d.memory.compatibility.level} compatible` : ''}${d.memory.breaking ? ', BREAKING' : ''}`, ...findings(d.memory.compatibility)]);
  section('runtime', [...d.runtime.map((f) => describeField(f, 'runtime')), ...d.policies.map((f) => describeField(f, 'policies'))]);
  section('approval rules', d.approvals.map((f) => describeField(f, 'policies')));
  section('secrets', [...d.secrets.added.map((s) => `+ ${s}`), ...d.secrets.removed.map((s) => `- ${s}`)]);
  section('integrations', [
    ...d.integrations.added.map((i) => `+ ${i.name} [${i.scopes.join(', ')}]`),
    ...d.integrations.removed.map((i) => `- ${i.name} [${i.scopes.join(', ')}]`),
    ...d.integrations.changed.map((i) => `~ ${i.name}: ${[...i.scopesAdded.map((s) => `+${s}`), ...i.scopesRemoved.map((s) => `-${s}`), ...i.fields.map((f) => describeField(f, i.name))].join(', ')}`),
  ]);
  if (d.orchestration) {
    const side = (s: NonNullable<ReleaseDiff['orchestration']>['before']) => (s ? (s.value !== undefined ? JSON.stringify(s.value) : shortDigest(s.digest)) : 'none');
    section('orchestration', [`${d.orchestration.change}: ${side(d.orchestration.before)} → ${side(d.orchestration.after)}`]);
  }
  section('notes', d.notes.map((f) => describeField(f, 'notes')));
  return out;
}

/** Each finding under the guarantee it breaks. */
function findings(s: SchemaCompatibility | undefined): string[] {
  if (!s) return [];
  return s.findings.map((f) => `  not ${f.breaks === 'backward' ? 'BACKWARD' : 'FORWARD'}: ${f.message}`);
}
