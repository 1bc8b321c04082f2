/**
 * The classification policy: the defaults of DESIGN.md's "Change classification", and the
 * validated overrides a team can keep in a YAML file (`sluice release diff --policy <file>`).
 * The file is parsed by the CLI; this module only validates the parsed value, so the rules
 * stay pure and the same policy can come from the control API later.
 */
import { z } from 'zod';
import { invalid } from '../errors/errors.js';
import type { CompatLevel } from './schema-compat.js';

export const CONCERNS = [
  'model',
  'prompt',
  'tools',
  'approval-rules',
  'memory',
  'runtime',
  'secrets',
  'integrations',
  'orchestration',
] as const;
export type Concern = (typeof CONCERNS)[number];

/** `none` is the class of a diff that touches no concern (same release, or notes only). */
export const CHANGE_CLASSES = ['none', 'small', 'medium', 'large'] as const;
export type ChangeClass = (typeof CHANGE_CLASSES)[number];
/** The classes a rule can assign. */
export type RuleClass = Exclude<ChangeClass, 'none'>;

/** Rules beyond "this concern was touched"; each can be re-classed by a policy. */
export const RULES = ['vendor-swap', 'breaking-tool', 'sensitive-tool', 'breaking-memory', 'too-many-concerns'] as const;
export type Rule = (typeof RULES)[number];

export interface ClassificationPolicy {
  /** The class of a (compatible) change to each concern. */
  concerns: Record<Concern, RuleClass>;
  /** The class each escalation rule assigns when it fires. */
  rules: Record<Rule, RuleClass>;
  /** Tools carrying any of these tags make every change to them fire `sensitive-tool`. */
  sensitiveTags: string[];
  /** More concerns than this in one diff fires `too-many-concerns` and the warning. */
  maxConcerns: number;
  /** The compatibility a tool or memory schema change needs not to count as breaking. */
  compatibility: { tools: CompatLevel; memory: CompatLevel };
}

export const DEFAULT_POLICY: ClassificationPolicy = Object.freeze({
  concerns: {
    prompt: 'small',
    model: 'medium',
    tools: 'medium',
    'approval-rules': 'medium',
    memory: 'medium',
    runtime: 'medium',
    secrets: 'medium',
    integrations: 'medium',
    orchestration: 'medium',
  },
  rules: {
    'vendor-swap': 'large',
    'breaking-tool': 'large',
    'sensitive-tool': 'large',
    'breaking-memory': 'large',
    'too-many-concerns': 'large',
  },
  sensitiveTags: ['money', 'customer-data'],
  maxConcerns: 2,
  // Both default to BACKWARD: the new release must accept what old callers send and read what
  // the old release wrote. See docs/classification.md for why.
  compatibility: { tools: 'BACKWARD', memory: 'BACKWARD' },
}) as ClassificationPolicy;

const ruleClass = z.enum(['small', 'medium', 'large']);
const level = z.enum(['NONE', 'BACKWARD', 'FORWARD', 'FULL']);

/** The policy file: every field optional; what is given replaces the default (lists included). */
export const PolicyFileSchema = z
  .object({
    concerns: z.partialRecord(z.enum(CONCERNS), ruleClass).optional(),
    rules: z.partialRecord(z.enum(RULES), ruleClass).optional(),
    sensitiveTags: z.array(z.string().min(1)).optional(),
    maxConcerns: z.number().int().min(0).optional(),
    compatibility: z.object({ tools: level.optional(), memory: level.optional() }).strict().optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFileSchema>;

/**
 * Validate a parsed policy file and merge it over the defaults. Errors name the file and the
 * field (`policy.yaml: concerns.promt`), and list every problem at once.
 */
export function parseClassificationPolicy(raw: unknown, file = 'policy'): ClassificationPolicy {
  const parsed = PolicyFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => {
      const field = [...issue.path.map(String), ...('keys' in issue && Array.isArray(issue.keys) ? [issue.keys.join(',')] : [])].join('.');
      return { where: field ? `${file}: ${field}` : file, message: issue.message };
    });
    throw invalid(`${file}: invalid classification policy (${details.map((d) => d.where.slice(file.length + 2) || '(top level)').join(', ')})`, details);
  }
  return mergePolicy(parsed.data);
}

export function mergePolicy(p: PolicyFile, base: ClassificationPolicy = DEFAULT_POLICY): ClassificationPolicy {
  return {
    concerns: { ...base.concerns, ...p.concerns },
    rules: { ...base.rules, ...p.rules },
    sensitiveTags: p.sensitiveTags ?? [...base.sensitiveTags],
    maxConcerns: p.maxConcerns ?? base.maxConcerns,
    compatibility: { ...base.compatibility, ...p.compatibility },
  };
}

export function classRank(c: ChangeClass): number {
  return CHANGE_CLASSES.indexOf(c);
}

export function maxClass(a: ChangeClass, b: ChangeClass): ChangeClass {
  return classRank(a) >= classRank(b) ? a : b;
}

/** Is `c` at least `threshold`? (For `--fail-on`.) */
export function classAtLeast(c: ChangeClass, threshold: ChangeClass): boolean {
  return classRank(c) >= classRank(threshold);
}
