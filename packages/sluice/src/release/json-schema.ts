/**
 * Is a tool or memory schema a valid JSON Schema? Checked with Ajv against the draft 2020-12
 * meta-schema (or draft-07 when the schema says `$schema: …draft-07…`), then compiled, which
 * also catches references that do not resolve.
 */
import { createRequire } from 'node:module';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';

const require = createRequire(import.meta.url);
// ajv is CommonJS: under NodeNext its default import is module.exports, whose `default` is the class.
const Ajv2020 = Ajv2020Module.default;

export interface SchemaProblem {
  /** JSON pointer inside the schema file, `/` for the root. */
  pointer: string;
  message: string;
}

let ajv: InstanceType<typeof Ajv2020> | undefined;
function instance(): InstanceType<typeof Ajv2020> {
  if (!ajv) {
    // strict: false because tool schemas legitimately carry vendor keywords (x-…, examples of
    // function-calling APIs); the meta-schema check still rejects malformed standard keywords.
    ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, addUsedSchema: false });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-07.json') as object);
  }
  return ajv;
}

/** Problems with `schema` as a JSON Schema; empty when it is valid. */
export function jsonSchemaProblems(schema: unknown): SchemaProblem[] {
  if (typeof schema === 'boolean') return [];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return [{ pointer: '/', message: 'a JSON Schema is an object (or true/false)' }];
  }
  const a = instance();
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared !== undefined && (typeof declared !== 'string' || !a.getSchema(declared.replace(/#$/, '')) && !a.getSchema(declared))) {
    return [{ pointer: '/$schema', message: `unsupported meta-schema ${JSON.stringify(declared)}; use https://json-schema.org/draft/2020-12/schema or draft-07` }];
  }
  const valid = a.validateSchema(schema as object);
  if (!valid) return summarize(a.errors ?? []);
  try {
    a.compile(schema as object);
  } catch (err) {
    return [{ pointer: '/', message: (err as Error).message }];
  }
  return [];
}

// Meta-schema validation reports every failed branch of an anyOf; keep the deepest, most
// specific message per location so people see "must be equal to one of the allowed values"
// at /properties/amount/type, not three variations of it.
function summarize(errors: ErrorObject[]): SchemaProblem[] {
  const byPointer = new Map<string, string>();
  for (const e of errors) {
    const pointer = e.instancePath === '' ? '/' : e.instancePath;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      if (!byPointer.has(pointer)) byPointer.set(pointer, e.message ?? 'invalid');
      continue;
    }
    const detail = e.keyword === 'enum' && Array.isArray((e.params as { allowedValues?: unknown[] }).allowedValues)
      ? `${e.message}: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
      : e.keyword === 'additionalProperties'
        ? `${e.message}: ${(e.params as { additionalProperty?: string }).additionalProperty}`
        : e.message ?? 'invalid';
    const prev = byPointer.get(pointer);
    if (!prev || /anyOf|oneOf/.test(prev)) byPointer.set(pointer, detail);
  }
  const out = [...byPointer].map(([pointer, message]) => ({ pointer, message }));
  // Deepest first: the root-level summary is the least useful line.
  return out.sort((x, y) => y.pointer.split('/').length - x.pointer.split('/').length);
}
