/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Numbers use ECMAScript's Number-to-String (which JSON.stringify already implements, as the
 * RFC requires); object keys are sorted by UTF-16 code units, which is what JavaScript's
 * default string comparison does; strings use JSON.stringify's escaping, which matches the
 * RFC's rules (it escapes lone surrogates as \uXXXX, the RFC's recommended I-JSON handling is to
 * reject them, which we do).
 */
import { invalid } from '../errors/errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function canonicalize(value: unknown): string {
  return serialize(value, '$');
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`cannot canonicalize ${value} at ${path}: JSON has no such number`);
      return JSON.stringify(value);
    case 'string':
      assertWellFormed(value, path);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => serialize(v === undefined ? null : v, `${path}[${i}]`)).join(',')}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      const members = keys.map((k) => {
        assertWellFormed(k, path);
        return `${JSON.stringify(k)}:${serialize(obj[k], `${path}.${k}`)}`;
      });
      return `{${members.join(',')}}`;
    }
    default:
      throw invalid(`cannot canonicalize a ${typeof value} at ${path}`);
  }
}

// A lone surrogate cannot be represented in UTF-8; RFC 8785 requires rejecting it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
function assertWellFormed(s: string, path: string): void {
  if (LONE_SURROGATE.test(s)) throw invalid(`string at ${path} contains a lone surrogate`);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
