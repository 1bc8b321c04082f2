/**
 * Field-level differences between two JSON values: what runtime, policy, model and note changes
 * look like to a reviewer ("/queue/max: 500 → 800"). Objects are walked; arrays and scalars are
 * compared as whole values, because an index-by-index diff of a list reads worse than before/after.
 */
import type { JsonValue } from '../canonical/canonical-json.js';
import { canonicalize } from '../canonical/canonical-json.js';
import { pointerToken } from './schema-compat.js';

export interface FieldChange {
  /** JSON pointer inside the component's value ('' is the whole value). */
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: JsonValue;
  after?: JsonValue;
}

export function diffFields(before: JsonValue | undefined, after: JsonValue | undefined): FieldChange[] {
  const a = leaves(before);
  const b = leaves(after);
  const out: FieldChange[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(path);
    const y = b.get(path);
    if (x === undefined) out.push({ path, change: 'added', after: y! });
    else if (y === undefined) out.push({ path, change: 'removed', before: x });
    else if (canonicalize(x) !== canonicalize(y)) out.push({ path, change: 'changed', before: x, after: y });
  }
  return out;
}

/** Every leaf of a value by JSON pointer. Empty objects are leaves, so `{}` → `{a: 1}` still shows. */
function leaves(v: JsonValue | undefined, at = '', out = new Map<string, JsonValue>()): Map<string, JsonValue> {
  if (v === undefined) return out;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const [k, child] of Object.entries(v)) leaves(child, `${at}/${pointerToken(k)}`, out);
  } else {
    out.set(at, v);
  }
  return out;
}

/** `a: 1 → 2`, `a: added 1`, `a: removed 1`, for text output. */
export function describeField(c: FieldChange, prefix = ''): string {
  const name = `${prefix}${c.path === '' ? '' : c.path}` || '(value)';
  const show = (v: JsonValue | undefined) => JSON.stringify(v);
  if (c.change === 'added') return `${name}: added ${show(c.after)}`;
  if (c.change === 'removed') return `${name}: removed (was ${show(c.before)})`;
  return `${name}: ${show(c.before)} → ${show(c.after)}`;
}
