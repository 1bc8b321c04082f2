/**
 * Reading a release source from disk: agent.yaml, and the files and folders it references,
 * confined to the agent directory (symlinks included). Nothing here writes.
 */
import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { invalid, notFound, validateAgentSource, type AgentSource, type ErrorDetail, type TreeEntry } from '@sluice/core';

export const SOURCE_FILE = 'agent.yaml';

/** How to show a path in messages: relative to the working directory, with `/`. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  const shown = rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? p : rel;
  return shown.split(sep).join('/');
}

export interface LoadedSource {
  source: AgentSource;
  /** The agent directory, resolved through symlinks. */
  root: string;
  /** How to name a file of this agent in messages. */
  show: (rel: string) => string;
}

export async function loadAgentSource(dir: string): Promise<LoadedSource> {
  const file = join(dir, SOURCE_FILE);
  const shownFile = displayPath(resolve(file));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const init = dir === '.' ? 'sluice init' : `sluice init ${dir}`;
      throw notFound(`${shownFile} does not exist; run \`${init}\` to scaffold one`, [{ where: shownFile, message: 'missing' }]);
    }
    throw invalid(`${shownFile}: cannot read it (${(err as Error).message})`, [{ where: shownFile, message: 'unreadable' }]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    const details: ErrorDetail[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos ? `${shownFile}:${pos.line}:${pos.col}` : shownFile;
      return { where, message: `malformed YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}` };
    });
    throw invalid(`${details[0]!.where}: ${details[0]!.message}`, details);
  }
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const source = validateAgentSource(data, shownFile);
  const root = await realpath(dir);
  const shownDir = displayPath(root);
  return { source, root, show: (rel) => (shownDir === '.' ? rel : `${shownDir}/${rel}`) };
}

export type Problems = ErrorDetail[];

/** Resolve `rel` inside `root`, refusing anything a symlink takes outside. */
async function confined(root: string, rel: string): Promise<{ abs: string } | { problem: string }> {
  const abs = join(root, ...rel.split('/'));
  try {
    await lstat(abs);
  } catch {
    return { problem: 'does not exist' };
  }
  const real = await realpath(abs).catch(() => undefined);
  if (!real) return { problem: 'is a broken symlink' };
  if (real !== root && !real.startsWith(root + sep)) return { problem: 'resolves outside the agent directory (through a symlink)' };
  return { abs: real };
}

/** A file's bytes, or a problem naming the field that referenced it. */
export async function readSourceFile(ls: LoadedSource, rel: string, field: string, problems: Problems): Promise<Uint8Array | undefined> {
  const where = `${ls.show(SOURCE_FILE)}: ${field}`;
  const r = await confined(ls.root, rel);
  if ('problem' in r) {
    problems.push({ where, message: `${ls.show(rel)} ${r.problem}` });
    return undefined;
  }
  const st = await stat(r.abs);
  if (!st.isFile()) {
    problems.push({ where, message: `${ls.show(rel)} is not a file` });
    return undefined;
  }
  return new Uint8Array(await readFile(r.abs));
}

/** Folders never hashed into a tree: version-control metadata differs between clones. */
const SKIPPED = new Set(['.git']);

/** A folder's entries for a deterministic tar; symlinks must stay inside the folder. */
export async function readSourceTree(ls: LoadedSource, rel: string, field: string, problems: Problems): Promise<TreeEntry[] | undefined> {
  const where = `${ls.show(SOURCE_FILE)}: ${field}`;
  const r = await confined(ls.root, rel);
  if ('problem' in r) {
    problems.push({ where, message: `${ls.show(rel)} ${r.problem}` });
    return undefined;
  }
  if (!(await stat(r.abs)).isDirectory()) {
    problems.push({ where, message: `${ls.show(rel)} is not a folder` });
    return undefined;
  }
  const base = r.abs;
  const entries: TreeEntry[] = [];
  const walk = async (absDir: string, prefix: string): Promise<void> => {
    const names = (await readdir(absDir)).sort();
    for (const name of names) {
      if (SKIPPED.has(name)) continue;
      const abs = join(absDir, name);
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        entries.push({ type: 'dir', path });
        await walk(abs, path);
      } else if (st.isFile()) {
        entries.push({ type: 'file', path, bytes: new Uint8Array(await readFile(abs)), executable: (st.mode & 0o111) !== 0 });
      } else if (st.isSymbolicLink()) {
        const target = await readlink(abs);
        const landed = resolve(dirname(abs), target);
        if (isAbsolute(target) || (landed !== base && !landed.startsWith(base + sep))) {
          problems.push({ where, message: `${ls.show(`${rel}/${path}`)} is a symlink to ${target}, outside ${ls.show(rel)}` });
          continue;
        }
        entries.push({ type: 'symlink', path, target: target.split(sep).join('/') });
      } else {
        problems.push({ where, message: `${ls.show(`${rel}/${path}`)} is neither a file, a folder nor a symlink` });
      }
    }
  };
  await walk(base, '');
  return entries;
}

/** Parse JSON, or record where it breaks (line and column). */
export function parseJsonFile(bytes: Uint8Array, shown: string, field: string, problems: Problems): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    let at = '';
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    if (lc) at = `:${lc[1]}:${lc[2]}`;
    else if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      at = `:${line}:${Number(pos[1]) - before.lastIndexOf('\n')}`;
    }
    problems.push({ where: `${shown}${at}`, message: `malformed JSON: ${msg.replace(/ in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '')} (${field})` });
    return undefined;
  }
}
