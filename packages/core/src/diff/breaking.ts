/**
 * When a schema change counts as breaking. Kept apart from the diff and the rules so both read
 * the same definition.
 */
import type { ClassificationPolicy } from './policy.js';
import { meetsLevel, type CompatFinding, type CompatLevel, type SchemaCompatibility } from './schema-compat.js';

/** Is this tool change breaking under the policy? Removing a tool always is: its callers fail. */
export function isBreakingTool(t: { change: string; schema?: SchemaCompatibility }, policy: ClassificationPolicy): boolean {
  if (t.change === 'removed') return true;
  return t.schema !== undefined && !meetsLevel(t.schema.level, policy.compatibility.tools);
}

/** The new release may not read memory the old one wrote (per the policy's required level). */
export function isBreakingMemory(m: { compatibility?: SchemaCompatibility }, policy: ClassificationPolicy): boolean {
  return m.compatibility !== undefined && !meetsLevel(m.compatibility.level, policy.compatibility.memory);
}

/** The findings that stand between a schema change and the required level. */
export function findingsAgainst(findings: CompatFinding[], required: CompatLevel): CompatFinding[] {
  const needBackward = required === 'BACKWARD' || required === 'FULL';
  const needForward = required === 'FORWARD' || required === 'FULL';
  return findings.filter((f) => (f.breaks === 'backward' ? needBackward : needForward));
}
