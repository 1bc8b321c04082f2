/**
 * Change classification: the class of a release diff is the highest class of every rule that
 * fired, and every fired rule is kept as a reason, so "why is this large?" always has an answer.
 * Taking the maximum makes the class monotone: touching one more concern can never lower it.
 */
import { describeField, type FieldChange } from './fields.js';
import { maxClass, type ChangeClass, type ClassificationPolicy, type Concern, type Rule } from './policy.js';
import { findingsAgainst, isBreakingMemory, isBreakingTool } from './breaking.js';
import type { ReleaseDiff } from './release-diff.js';

export interface ClassReason {
  /** `concern` (a concern was touched) or one of the escalation rules. */
  rule: 'concern' | Rule;
  concern?: Concern;
  class: Exclude<ChangeClass, 'none'>;
  message: string;
}

export interface Classification {
  class: ChangeClass;
  reasons: ClassReason[];
  warnings: string[];
}

export function classify(diff: Omit<ReleaseDiff, 'classification'>, policy: ClassificationPolicy): Classification {
  const reasons: ClassReason[] = [];
  const warnings: string[] = [];
  for (const concern of diff.concerns) {
    reasons.push({ rule: 'concern', concern, class: policy.concerns[concern], message: summarize(diff, concern) });
  }
  const rule = (r: Rule, concern: Concern, message: string) => reasons.push({ rule: r, concern, class: policy.rules[r], message });

  if (diff.model?.vendorSwap) {
    rule('vendor-swap', 'model', `model vendor swapped: provider ${diff.model.provider?.before} → ${diff.model.provider?.after}`);
  }
  const sensitive = new Set(policy.sensitiveTags);
  for (const t of diff.tools) {
    if (isBreakingTool(t, policy)) {
      const why =
        t.change === 'removed'
          ? 'removed; its callers would fail'
          : `${t.schema!.level} compatible, ${policy.compatibility.tools} required: ${messages(findingsAgainst(t.schema!.findings, policy.compatibility.tools))}`;
      rule('breaking-tool', 'tools', `tool "${t.name}" contract is breaking: ${why}`);
    }
    const tags = [...new Set([...(t.before?.tags ?? []), ...(t.after?.tags ?? [])])].filter((tag) => sensitive.has(tag)).sort();
    if (tags.length > 0) rule('sensitive-tool', 'tools', `tool "${t.name}" is tagged ${tags.join(', ')} and was ${t.change}`);
  }
  if (diff.memory && isBreakingMemory(diff.memory, policy)) {
    const c = diff.memory.compatibility!;
    rule('breaking-memory', 'memory', `memory schema is ${c.level} compatible, ${policy.compatibility.memory} required: ${messages(findingsAgainst(c.findings, policy.compatibility.memory))}`);
  }
  if (diff.concerns.length > policy.maxConcerns) {
    const list = diff.concerns.join(', ');
    rule('too-many-concerns', diff.concerns[0]!, `${diff.concerns.length} concerns touched at once (${list}); more than ${policy.maxConcerns}`);
    warnings.push(`this release touches ${diff.concerns.length} concerns (${list}): ship one grouped change per concern, so each can be observed and rolled back on its own`);
  }
  if (diff.from.agent !== diff.to.agent) warnings.push(`comparing releases of different agents: ${diff.from.agent} and ${diff.to.agent}`);

  const cls = reasons.reduce<ChangeClass>((acc, r) => maxClass(acc, r.class), 'none');
  return { class: cls, reasons, warnings };
}

const messages = (fs: Array<{ message: string }>) => fs.map((f) => f.message).join('; ');
const fields = (cs: FieldChange[], prefix = '') => cs.map((c) => describeField(c, prefix)).join(', ');

function summarize(d: Omit<ReleaseDiff, 'classification'>, concern: Concern): string {
  switch (concern) {
    case 'prompt':
      return `prompts changed: ${d.prompts.map((p) => `${p.name} (${p.change}, +${p.linesAdded} −${p.linesRemoved} lines)`).join(', ')}`;
    case 'model':
      return `model changed: ${fields(d.model?.fields ?? [], 'model')}`;
    case 'tools':
      return `tools changed: ${d.tools.map((t) => `${t.name} (${t.change}${t.schema ? `, schema ${t.schema.level}` : ''}${t.breaking ? ', breaking' : ''})`).join(', ')}`;
    case 'approval-rules':
      return `approval rules changed: ${fields(d.approvals, 'policies')}`;
    case 'memory':
      return `memory schema ${d.memory?.change}${d.memory?.compatibility ? ` (${d.memory.compatibility.level} compatible)` : ''}`;
    case 'runtime':
      return `runtime changed: ${[fields(d.runtime, 'runtime'), fields(d.policies, 'policies')].filter(Boolean).join(', ')}`;
    case 'secrets':
      return `secrets changed: ${[...d.secrets.added.map((s) => `+${s}`), ...d.secrets.removed.map((s) => `-${s}`)].join(', ')}`;
    case 'integrations': {
      const i = d.integrations;
      return `integrations changed: ${[
        ...i.added.map((x) => `+${x.name}`),
        ...i.removed.map((x) => `-${x.name}`),
        ...i.changed.map((x) => `${x.name} (${[...x.scopesAdded.map((s) => `+${s}`), ...x.scopesRemoved.map((s) => `-${s}`), ...x.fields.map((f) => describeField(f, x.name))].join(', ')})`),
      ].join(', ')}`;
    }
    case 'orchestration':
      return `orchestration ${d.orchestration?.change}: ${d.orchestration?.before?.digest ?? 'none'} → ${d.orchestration?.after?.digest ?? 'none'}`;
  }
}
