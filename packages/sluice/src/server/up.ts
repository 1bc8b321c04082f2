/**
 * `sluice up` as a function: one process made of parts. The control plane (store, rollout loop,
 * API) comes first; other modules (the gateway, telemetry and analysis) join through
 * UP_EXTENSIONS, each a few lines: routes mounted on the control app, and parts started after
 * the control plane and stopped before it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { invalid, parsePublicKey } from '@sluice/core';
import { parse as parseYaml } from 'yaml';
import type { RouteModule } from '../control/app.js';
import { openControlPlane, type ControlPlane } from '../control/plane.js';
import type { ReleasePolicy } from '../control/services/releases.js';
import { Parts, type ServerPart } from './part.js';
import { gatewayUpExtension } from '../gateway/up.js';
import { analysisUpExtension } from '../analysis/up.js';

export interface UpOptions {
  port: number;
  gatewayPort: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** Files holding trusted Ed25519 public keys (PEM); any turns on requireSignature. */
  trustedKeys: string[];
  /** A YAML/JSON policy file: `{requireSignature: bool, trustedKeys: [file.pub, ...]}`. */
  policyFile?: string;
  tickMs: number;
  /** Gateway session affinity in Redis (shared by replicas); in memory when absent. */
  redisUrl?: string;
  log?: (line: string) => void;
}

export interface UpContext {
  plane: ControlPlane;
  options: UpOptions;
}

/** What a module adds to `sluice up`. */
export interface UpExtension {
  /** `/v1` route modules mounted on the control app (with its auth and OpenAPI). */
  routes?: RouteModule[];
  /** Parts to run once the control plane is open (e.g. the gateway on `options.gatewayPort`). */
  parts?(ctx: UpContext): ServerPart[] | Promise<ServerPart[]>;
}

/**
 * Modules register here, e.g. in up.ts:
 *   UP_EXTENSIONS.push(async (options) => {
 *     const analysis = await createAnalysisService({ priceFile: join(options.dataDir, 'prices.json') });
 *     return { routes: [analysis.routes], parts: ({ plane }) => [analysis.attach(plane)] };
 *   });
 */
export const UP_EXTENSIONS: Array<(options: UpOptions) => UpExtension | Promise<UpExtension>> = [];

// The gateway serves agent traffic on --gateway-port, fed by the routing config in process.
UP_EXTENSIONS.push(gatewayUpExtension);
UP_EXTENSIONS.push(analysisUpExtension);

export interface RunningUp {
  plane: ControlPlane;
  urls: Record<string, string>;
  adminToken: { token: string; file: string } | null;
  stop(): Promise<void>;
}

function readKey(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`cannot read trusted key ${file}: ${(err as Error).message}`, [{ where: file, message: 'unreadable' }]);
  }
  parsePublicKey(pem, file);
  return pem;
}

/** The signature policy from `--trusted-key` files and an optional policy file. */
export function loadPolicy(trustedKeys: string[], policyFile?: string): ReleasePolicy {
  const keys = trustedKeys.map(readKey);
  let require = keys.length > 0;
  if (policyFile) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(policyFile, 'utf8'));
    } catch (err) {
      throw invalid(`cannot read policy ${policyFile}: ${(err as Error).message}`, [{ where: policyFile, message: 'unreadable or not YAML' }]);
    }
    const p = (doc ?? {}) as { requireSignature?: unknown; trustedKeys?: unknown };
    if (p.requireSignature !== undefined && typeof p.requireSignature !== 'boolean')
      throw invalid(`${policyFile} requireSignature: expected true or false`, [{ where: `${policyFile} requireSignature`, message: 'not a boolean' }]);
    if (p.trustedKeys !== undefined && !(Array.isArray(p.trustedKeys) && p.trustedKeys.every((k) => typeof k === 'string')))
      throw invalid(`${policyFile} trustedKeys: expected a list of public key files`, [{ where: `${policyFile} trustedKeys`, message: 'not a list of paths' }]);
    for (const k of (p.trustedKeys as string[] | undefined) ?? []) keys.push(readKey(resolve(dirname(policyFile), k)));
    require = p.requireSignature ?? (require || keys.length > 0);
  }
  return { requireSignature: require, trustedKeys: keys };
}

export async function runUp(options: UpOptions): Promise<RunningUp> {
  const policy = loadPolicy(options.trustedKeys, options.policyFile);
  const log = options.log ?? (() => {});
  const extensions: UpExtension[] = [];
  for (const make of UP_EXTENSIONS) extensions.push(await make(options));
  const plane = await openControlPlane({
    dataDir: options.dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    port: options.port,
    host: options.host,
    policy,
    tickMs: options.tickMs,
    onLoopError: (err) => log(`rollout loop: ${(err as Error).message}`),
    routes: extensions.flatMap((e) => e.routes ?? []),
  });
  const extra: ServerPart[] = [];
  try {
    for (const e of extensions) extra.push(...((await e.parts?.({ plane, options })) ?? []));
  } catch (err) {
    await plane.db.close();
    throw err;
  }
  const parts = new Parts([...plane.parts, ...extra]);
  await parts.start();
  const urls: Record<string, string> = { api: plane.http.url(), openapi: `${plane.http.url()}/v1/openapi.json`, metrics: `${plane.http.url()}/metrics` };
  for (const p of extra) {
    const d = p.describe?.();
    if (d) urls[p.name] = d;
  }
  return { plane, urls, adminToken: plane.adminToken, stop: () => parts.stop() };
}
