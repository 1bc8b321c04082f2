/**
 * A folder as one deterministic tar (POSIX ustar, with PAX records for long names), so a whole
 * orchestration tree has one digest that is the same on every machine: entries sorted by their
 * UTF-8 path bytes, directories as `dir/`, modes normalized (0755 for directories and executable
 * files, 0644 for other files, 0777 for links), mtime, uid and gid zero, no owner names.
 * Any tar reads it back (`tar -tvf`).
 */
import { invalid } from '../errors/errors.js';

export type TreeEntry =
  | { type: 'dir'; path: string }
  | { type: 'file'; path: string; bytes: Uint8Array; executable?: boolean }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;
const enc = new TextEncoder();

/** The name an entry has in the archive: directories end in `/`. */
export function treeEntryName(e: TreeEntry): string {
  return e.type === 'dir' ? `${e.path}/` : e.path;
}

/** Order by UTF-8 bytes of the archive name: independent of locale, filesystem and platform. */
export function compareTreeEntries(a: TreeEntry, b: TreeEntry): number {
  return Buffer.compare(Buffer.from(treeEntryName(a), 'utf8'), Buffer.from(treeEntryName(b), 'utf8'));
}

export function treeArchive(entries: TreeEntry[]): Uint8Array {
  const sorted = [...entries].sort(compareTreeEntries);
  const chunks: Uint8Array[] = [];
  let prev: string | undefined;
  for (const e of sorted) {
    checkPath(e.path);
    const name = treeEntryName(e);
    if (name === prev) throw invalid(`tree has two entries named ${name}`, [{ where: e.path, message: 'duplicate entry' }]);
    prev = name;
    const body = e.type === 'file' ? e.bytes : new Uint8Array(0);
    const link = e.type === 'symlink' ? e.target : '';
    const pax: string[] = [];
    if (enc.encode(name).byteLength > 100) pax.push(paxRecord('path', name));
    if (enc.encode(link).byteLength > 100) pax.push(paxRecord('linkpath', link));
    if (pax.length > 0) {
      const data = enc.encode(pax.join(''));
      chunks.push(header({ name: 'PaxHeader', mode: 0o644, size: data.byteLength, type: 'x', link: '' }), pad(data));
    }
    const mode = e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : e.executable ? 0o755 : 0o644;
    const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
    chunks.push(header({ name: truncateUtf8(name, 100), mode, size: body.byteLength, type, link: truncateUtf8(link, 100) }));
    if (body.byteLength > 0) chunks.push(pad(body));
  }
  chunks.push(new Uint8Array(BLOCK * 2));
  return Buffer.concat(chunks);
}

function checkPath(p: string): void {
  if (p === '' || p.startsWith('/') || p.endsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..') || p.includes('\\')) {
    throw invalid(`tree entry ${JSON.stringify(p)} is not a clean relative path`, [{ where: p, message: 'expected a/b/c with / separators' }]);
  }
}

// A PAX record is "<len> <key>=<value>\n", where len counts the whole record including itself.
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  const restLen = enc.encode(rest).byteLength;
  let len = restLen + String(restLen).length;
  if (String(len).length + restLen !== len) len = String(len + 1).length + restLen;
  return `${len}${rest}`;
}

function truncateUtf8(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.byteLength <= max) return s;
  // The full name is in the PAX record; the header field only has to be a valid prefix.
  let cut = max;
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--;
  return b.subarray(0, cut).toString('utf8');
}

function header(h: { name: string; mode: number; size: number; type: string; link: string }): Uint8Array {
  if (h.size > 0o77777777777) throw invalid(`a file in the tree is larger than 8 GiB (${h.size} bytes)`);
  const b = Buffer.alloc(BLOCK, 0);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(h.mode, 7), 100, 'ascii');
  b.write(octal(0, 7), 108, 'ascii');
  b.write(octal(0, 7), 116, 'ascii');
  b.write(octal(h.size, 11), 124, 'ascii');
  b.write(octal(0, 11), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(h.type, 156, 'ascii');
  b.write(h.link, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 'ascii');
  b.write(octal(0, 7), 329, 'ascii');
  b.write(octal(0, 7), 337, 'ascii');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return b;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width, '0')}\u0000`;
}

function pad(data: Uint8Array): Uint8Array {
  const rem = data.byteLength % BLOCK;
  return rem === 0 ? data : Buffer.concat([data, new Uint8Array(BLOCK - rem)]);
}
