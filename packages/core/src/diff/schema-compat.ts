/**
 * JSON Schema compatibility, with Confluent Schema Registry's meanings:
 *
 * - BACKWARD: readers using the NEW schema can read data written with the OLD one
 *   (every value the old schema accepts, the new one accepts too: old ⊆ new).
 * - FORWARD: readers using the OLD schema can read data written with the NEW one (new ⊆ old).
 * - FULL: both. NONE: neither.
 *
 * The check walks both schemas side by side and records every change that may reject a value in
 * one direction. It understands the subset that tool arguments and agent memory use: `type`,
 * `properties`, `required`, `additionalProperties`, `enum`, `const`, `items`, nested objects and
 * simple numeric, string and array bounds. A schema node that uses any other keyword (`anyOf`,
 * `$ref`, `patternProperties`, ...) and changed is reported as incompatible both ways: the check
 * never guesses in the optimistic direction.
 *
 * Open objects. JSON Schema lets an object without `additionalProperties: false` carry any
 * undeclared property. Taken literally (Confluent's "open content model"), adding a property to an
 * open object can never be BACKWARD, because some old writer might have sent that name with
 * another type. Tool callers and memory writers produce the properties their schema declares, so
 * by default (`openContent: 'declared'`) Sluice assumes undeclared properties are absent unless
 * `additionalProperties` is itself a schema (a map). `openContent: 'any'` gives the literal reading.
 */
import { canonicalize } from '../canonical/canonical-json.js';

export type CompatLevel = 'FULL' | 'BACKWARD' | 'FORWARD' | 'NONE';
export const COMPAT_LEVELS: readonly CompatLevel[] = ['NONE', 'BACKWARD', 'FORWARD', 'FULL'];

/** Which guarantee a finding breaks. */
export type CompatDirection = 'backward' | 'forward';

export interface CompatFinding {
  /** `backward`: old data may be rejected by the new schema; `forward`: new data by the old one. */
  breaks: CompatDirection;
  /** JSON pointer into the schema where the change is ('' is the root). */
  at: string;
  /** Self-contained explanation, e.g. `required property "currency" added at /properties/refund`. */
  message: string;
}

export interface SchemaCompatibility {
  level: CompatLevel;
  backward: boolean;
  forward: boolean;
  findings: CompatFinding[];
}

export interface CompatOptions {
  /** How to read objects that do not close `additionalProperties`; see the module comment. */
  openContent?: 'declared' | 'any';
}

type Schema = Record<string, unknown>;

/** Keywords that never change which values are valid. */
const ANNOTATIONS = new Set([
  'title', 'description', '$comment', 'examples', 'default', 'deprecated', 'readOnly', 'writeOnly',
  '$schema', '$id', '$anchor', 'contentMediaType', 'contentEncoding',
]);

/** Keywords this module analyses; every other keyword is compared for equality only. */
const ANALYSED = new Set([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items',
  'minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties',
  'maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties',
  'pattern', 'format', 'multipleOf', 'uniqueItems',
]);

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

export function schemaCompatibility(oldSchema: unknown, newSchema: unknown, options: CompatOptions = {}): SchemaCompatibility {
  const walker = new Walker(options.openContent ?? 'declared');
  walker.compare(oldSchema, newSchema, '');
  const findings = dedupe(walker.findings);
  const backward = !findings.some((f) => f.breaks === 'backward');
  const forward = !findings.some((f) => f.breaks === 'forward');
  return { level: levelOf(backward, forward), backward, forward, findings };
}

export function levelOf(backward: boolean, forward: boolean): CompatLevel {
  return backward ? (forward ? 'FULL' : 'BACKWARD') : forward ? 'FORWARD' : 'NONE';
}

/** Does `actual` give every guarantee `required` asks for? (FULL meets all; NONE meets only NONE.) */
export function meetsLevel(actual: CompatLevel, required: CompatLevel): boolean {
  const needBackward = required === 'BACKWARD' || required === 'FULL';
  const needForward = required === 'FORWARD' || required === 'FULL';
  const hasBackward = actual === 'BACKWARD' || actual === 'FULL';
  const hasForward = actual === 'FORWARD' || actual === 'FULL';
  return (!needBackward || hasBackward) && (!needForward || hasForward);
}

/** The level of the same change seen in reverse (new → old): BACKWARD and FORWARD swap. */
export function reverseLevel(level: CompatLevel): CompatLevel {
  return level === 'BACKWARD' ? 'FORWARD' : level === 'FORWARD' ? 'BACKWARD' : level;
}

/** JSON pointer escaping (RFC 6901). */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

const where = (at: string) => (at === '' ? 'the root' : at);
const show = (v: unknown) => JSON.stringify(v);

class Walker {
  readonly findings: CompatFinding[] = [];
  constructor(private readonly openContent: 'declared' | 'any') {}

  private add(breaks: CompatDirection, at: string, message: string): void {
    this.findings.push({ breaks, at, message: `${message} at ${where(at)}` });
  }

  compare(oldRaw: unknown, newRaw: unknown, at: string): void {
    if (same(oldRaw, newRaw)) return;
    // Boolean schemas: `false` accepts nothing, `true` (like `{}`) accepts everything.
    if (oldRaw === false || newRaw === false) {
      if (newRaw === false && !isFalse(oldRaw)) this.add('backward', at, 'schema now rejects every value');
      if (oldRaw === false && !isFalse(newRaw)) this.add('forward', at, 'schema no longer rejects every value');
      return;
    }
    const o = asSchema(oldRaw);
    const n = asSchema(newRaw);
    if (!o || !n) {
      this.add('backward', at, 'schema is not an object and changed');
      this.add('forward', at, 'schema is not an object and changed');
      return;
    }
    // Keywords outside the analysed subset (anyOf, $ref, patternProperties, ...) can interact
    // with the ones analysed here, so a node that uses one and changed is incompatible both ways.
    const unknown = [...new Set([...Object.keys(o), ...Object.keys(n)])].filter((k) => !ANALYSED.has(k) && !ANNOTATIONS.has(k));
    if (unknown.length > 0) {
      const msg = `schema uses ${unknown.map(show).join(', ')}, which the compatibility check does not analyse, and changed`;
      this.add('backward', at, msg);
      this.add('forward', at, msg);
      return;
    }
    this.compareTypes(o, n, at);
    this.compareValues(o, n, at);
    this.compareBounds(o, n, at);
    this.compareStrings(o, n, at);
    this.compareObjects(o, n, at);
    this.compareItems(o, n, at);
  }

  private compareTypes(o: Schema, n: Schema, at: string): void {
    const ot = typesOf(o);
    const nt = typesOf(n);
    if (ot === null && nt === null) return;
    if (ot === null) {
      this.add('backward', at, `type restricted to ${[...nt!].map(show).join(', ')}`);
      return;
    }
    if (nt === null) {
      this.add('forward', at, `type restriction ${[...ot].map(show).join(', ')} removed`);
      return;
    }
    for (const t of ot) if (!covers(nt, t)) this.add('backward', at, `type ${show(t)} no longer accepted`);
    for (const t of nt) if (!covers(ot, t)) this.add('forward', at, `type ${show(t)} newly accepted`);
  }

  /** `enum` and `const` both restrict the set of allowed values. */
  private compareValues(o: Schema, n: Schema, at: string): void {
    const ov = valuesOf(o);
    const nv = valuesOf(n);
    if (ov === null && nv === null) return;
    if (ov === null) {
      this.add('backward', at, `allowed values restricted to ${nv!.map(show).join(', ')}`);
      return;
    }
    if (nv === null) {
      this.add('forward', at, `allowed-values restriction (${ov.map(show).join(', ')}) removed`);
      return;
    }
    const nKeys = new Set(nv.map(key));
    const oKeys = new Set(ov.map(key));
    for (const v of ov) if (!nKeys.has(key(v))) this.add('backward', at, `allowed value ${show(v)} removed`);
    for (const v of nv) if (!oKeys.has(key(v))) this.add('forward', at, `allowed value ${show(v)} added`);
  }

  private compareBounds(o: Schema, n: Schema, at: string): void {
    for (const [keys, side] of [[LOWER_BOUNDS, 'lower'], [UPPER_BOUNDS, 'upper']] as const) {
      for (const k of keys) {
        if (same(o[k], n[k])) continue;
        // Draft 4's boolean exclusiveMinimum/Maximum, or anything else odd: no ordering to reason with.
        if (!isBound(o[k]) || !isBound(n[k])) this.changedBothWays(k, o[k], n[k], at);
        else this.bound(k, num(o[k]), num(n[k]), side, at);
      }
    }
    if (!same(o.multipleOf, n.multipleOf)) this.changedBothWays('multipleOf', o.multipleOf, n.multipleOf, at);
    const ou = o.uniqueItems === true;
    const nu = n.uniqueItems === true;
    if (!ou && nu) this.add('backward', at, 'uniqueItems required');
    if (ou && !nu) this.add('forward', at, 'uniqueItems no longer required');
  }

  private bound(k: string, ov: number | undefined, nv: number | undefined, side: 'lower' | 'upper', at: string): void {
    if (ov === nv) return;
    if (ov === undefined) return this.add('backward', at, `${k} ${nv} added`);
    if (nv === undefined) return this.add('forward', at, `${k} ${ov} removed`);
    const tighter = side === 'lower' ? nv > ov : nv < ov;
    const verb = nv > ov ? 'raised' : 'lowered';
    this.add(tighter ? 'backward' : 'forward', at, `${k} ${verb} from ${ov} to ${nv}`);
  }

  private compareStrings(o: Schema, n: Schema, at: string): void {
    for (const k of ['pattern', 'format'] as const) {
      if (same(o[k], n[k])) continue;
      if (o[k] === undefined) this.add('backward', at, `${k} ${show(n[k])} added`);
      else if (n[k] === undefined) this.add('forward', at, `${k} ${show(o[k])} removed`);
      else this.changedBothWays(k, o[k], n[k], at);
    }
  }

  private changedBothWays(k: string, ov: unknown, nv: unknown, at: string): void {
    const msg = `${k} changed from ${show(ov) ?? 'nothing'} to ${show(nv) ?? 'nothing'}`;
    this.add('backward', at, msg);
    this.add('forward', at, msg);
  }

  private compareObjects(o: Schema, n: Schema, at: string): void {
    const oReq = new Set(strings(o.required));
    const nReq = new Set(strings(n.required));
    for (const p of nReq) if (!oReq.has(p)) this.add('backward', at, `required property ${show(p)} added`);
    for (const p of oReq) if (!nReq.has(p)) this.add('forward', at, `property ${show(p)} no longer required`);

    const oProps = props(o);
    const nProps = props(n);
    const oAP = o.additionalProperties;
    const nAP = n.additionalProperties;
    for (const name of new Set([...Object.keys(oProps), ...Object.keys(nProps)])) {
      const path = `${at}/properties/${pointerToken(name)}`;
      const inOld = Object.hasOwn(oProps, name);
      const inNew = Object.hasOwn(nProps, name);
      if (inOld && inNew) {
        this.compare(oProps[name], nProps[name], path);
      } else if (inNew) {
        // New data may carry it: old readers see it as an undeclared property.
        if (oAP === false) this.add('forward', path, `property ${show(name)} added but old readers reject undeclared properties (additionalProperties: false)`);
        else this.sub(oAP, nProps[name], path, 'forward', `property ${show(name)} added; old readers check it against additionalProperties`);
        // Old data carries it only where the old schema let writers add undeclared properties.
        if (this.carriesExtras(oAP)) this.sub(oAP, nProps[name], path, 'backward', `property ${show(name)} added; old data may already carry it with other values`);
      } else {
        if (nAP === false) this.add('backward', path, `property ${show(name)} removed and new readers reject undeclared properties (additionalProperties: false)`);
        else this.sub(oProps[name], nAP, path, 'backward', `property ${show(name)} removed; new readers check it against additionalProperties`);
        if (this.carriesExtras(nAP)) this.sub(oProps[name], nAP, path, 'forward', `property ${show(name)} removed; new data may still carry it with other values`);
      }
    }
    if (!same(oAP, nAP) && (this.carriesExtras(oAP) || this.carriesExtras(nAP))) {
      this.compare(oAP ?? true, nAP ?? true, `${at}/additionalProperties`);
    }
  }

  /** Run a nested comparison and keep only the findings in one direction, under one heading. */
  private sub(oldRaw: unknown, newRaw: unknown, at: string, keep: CompatDirection, heading: string): void {
    const inner = new Walker(this.openContent);
    inner.compare(oldRaw ?? true, newRaw ?? true, at);
    const hits = inner.findings.filter((f) => f.breaks === keep);
    if (hits.length > 0) this.add(keep, at, `${heading} (${hits.map((h) => h.message).join('; ')})`);
  }

  /** Whether data may hold properties the schema does not declare. */
  private carriesExtras(ap: unknown): boolean {
    if (this.openContent === 'any') return ap !== false;
    // A non-trivial additionalProperties schema is a map: its writers do add undeclared keys.
    return isObject(ap) && Object.keys(ap).some((k) => !ANNOTATIONS.has(k));
  }

  private compareItems(o: Schema, n: Schema, at: string): void {
    if (o.items === undefined && n.items === undefined) return;
    const oi = o.items ?? true;
    const ni = n.items ?? true;
    if (Array.isArray(oi) || Array.isArray(ni)) {
      if (!same(oi, ni)) this.changedBothWays('items', oi, ni, at);
      return;
    }
    this.compare(oi, ni, `${at}/items`);
  }
}

const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFalse = (v: unknown) => v === false;

function asSchema(v: unknown): Schema | undefined {
  if (v === true || v === undefined) return {};
  return isObject(v) ? v : undefined;
}

function typesOf(s: Schema): Set<string> | null {
  if (typeof s.type === 'string') return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.filter((t): t is string => typeof t === 'string'));
  return null;
}

/** Does the type set accept every value of type `t`? (`number` includes `integer`.) */
function covers(types: Set<string>, t: string): boolean {
  return types.has(t) || (t === 'integer' && types.has('number'));
}

function valuesOf(s: Schema): unknown[] | null {
  if (Object.hasOwn(s, 'const')) return [s.const];
  return Array.isArray(s.enum) ? s.enum : null;
}

function props(s: Schema): Record<string, unknown> {
  return isObject(s.properties) ? s.properties : {};
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const isBound = (v: unknown) => v === undefined || typeof v === 'number';

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function key(v: unknown): string {
  try {
    return canonicalize(v);
  } catch {
    return String(v);
  }
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return key(a) === key(b);
}

function dedupe(findings: CompatFinding[]): CompatFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.breaks}\u0000${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
