/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a free
 * loopback port, with its storage in a temporary directory that `stop()` removes. Optionally
 * behind htpasswd Basic auth, to exercise credentials end to end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REGISTRY_BIN = process.env.SLUICE_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:<port>`: the registry part of a `registry/repo:tag` reference. */
  host: string;
  /** Where the registry keeps its files (distribution's filesystem driver layout). */
  root: string;
  /** The file holding a blob's bytes, e.g. to corrupt it on purpose. */
  blobFile(digest: string): string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Require Basic auth; `bcryptHash` is the htpasswd hash of the password. */
  htpasswd?: { user: string; bcryptHash: string };
}

/**
 * A fixed htpasswd entry for tests (bcrypt cost 5 so logins stay fast): user `sluice`,
 * password `s3cret-pass`. Only ever used against a throwaway loopback registry.
 */
export const TEST_CREDENTIALS = {
  user: 'sluice',
  password: 's3cret-pass',
  bcryptHash: '$2b$05$abcdefghijklmnopqrstuuV7fpPozvyqJfnY19y0802WTlXUm6Rjy',
} as const;

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  let lastError: unknown;
  // A free port can be taken between our probe and the registry's bind: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(options: RegistryOptions): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog: {disabled: true}',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(root, 'data')}`,
    '  delete: {enabled: true}',
    'http:',
    `  addr: ${host}`,
  ];
  if (options.htpasswd) {
    await writeFile(join(root, 'htpasswd'), `${options.htpasswd.user}:${options.htpasswd.bcryptHash}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: sluice-test', `    path: ${join(root, 'htpasswd')}`);
  }
  const config = join(root, 'config.yml');
  await writeFile(config, `${lines.join('\n')}\n`);

  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilUp(host, child);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    await rm(root, { recursive: true, force: true });
    throw new Error(`docker-registry did not start on ${host}: ${(err as Error).message}\n${stderr}`, { cause: err });
  }

  return {
    host,
    root,
    blobFile: (digest) => {
      const hex = digest.replace(/^sha256:/, '');
      return join(root, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function waitUntilUp(host: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      // 401 means it is up and wants credentials.
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for /v2/');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port that was free a moment ago (also useful as a "closed port" for unreachable-registry tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const execFileP = promisify(execFile);

/** Run skopeo, the independent OCI client the tests check our artifacts with. */
export async function skopeo(args: string[]): Promise<string> {
  const { stdout } = await execFileP('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}
