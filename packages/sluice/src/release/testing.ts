/** Test helpers for releases: scaffolded agents in temp dirs and a fingerprint of a whole store. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initTemplate } from './init-template.js';

export async function tempDir(prefix = 'sluice-release-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Write the `sluice init` template into `dir`, with optional overrides (path → content). */
export async function scaffoldAgent(dir: string, overrides: Record<string, string> = {}, agent?: string): Promise<void> {
  for (const [p, text] of Object.entries({ ...initTemplate(agent), ...overrides })) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
}

/**
 * A fingerprint of every path and byte under `dir` (or 'absent'), to show a command left a
 * store exactly as it found it.
 */
export async function fingerprint(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string, rel: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      h.update(`${rel}/${e.name}\0`);
      if (e.isDirectory()) await walk(p, `${rel}/${e.name}`);
      else h.update(await readFile(p));
    }
  };
  try {
    await walk(dir, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  return h.digest('hex');
}
