/**
 * Deployments: a release bound to the upstream URL(s) that serve it, plus how the gateway
 * recognises the agent's traffic. The first deployment of an agent makes its release the
 * agent's stable (baseline) release; later ones become candidates for a rollout.
 */
import { randomBytes } from 'node:crypto';
import { invalid, type RouteMatch } from '@sluice/core';
import type { Queryable } from '../../adapters/store/database.js';
import { appendAudit } from '../audit/chain.js';
import { bumpEpoch } from '../epoch.js';
import { getAgent, setStable } from './agents.js';
import { assertServable, resolveRelease, type ReleasePolicy } from './releases.js';

export interface DeploymentRecord {
  id: string;
  agent: string;
  release: string;
  releaseDigest: string;
  upstreams: string[];
  healthUrl: string | null;
  match: RouteMatch;
  createdAt: string;
  createdBy: string;
}

export interface DeploymentInput {
  release: string;
  upstreams: string[];
  healthUrl?: string;
  match?: RouteMatch;
}

interface DeploymentRow {
  id: string;
  agent: string;
  release_digest: string;
  version: string;
  upstreams: string[];
  health_url: string | null;
  match: RouteMatch;
  created_at: string;
  created_by: string;
}

const fromRow = (r: DeploymentRow): DeploymentRecord => ({
  id: r.id,
  agent: r.agent,
  release: `${r.agent}@${r.version}`,
  releaseDigest: r.release_digest,
  upstreams: r.upstreams,
  healthUrl: r.health_url,
  match: r.match,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

function checkUrl(u: string, where: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw invalid(`${where}: not a URL: ${JSON.stringify(u)}`, [{ where, message: 'expected an http(s) URL' }]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${where}: expected http or https, got ${url.protocol}`, [{ where, message: 'expected an http(s) URL' }]);
  return u;
}

export async function addDeployment(tx: Queryable, actor: string, input: DeploymentInput, policy: ReleasePolicy): Promise<DeploymentRecord> {
  if (input.upstreams.length === 0) throw invalid('a deployment needs at least one upstream URL', [{ where: '/upstreams', message: 'empty' }]);
  input.upstreams.forEach((u, i) => checkUrl(u, `/upstreams/${i}`));
  if (input.healthUrl) checkUrl(input.healthUrl, '/healthUrl');
  const release = await resolveRelease(tx, input.release, '/release');
  assertServable(release, policy, '/release');
  const at = new Date().toISOString();
  const id = `dep_${randomBytes(6).toString('hex')}`;
  const match = input.match ?? {};
  await tx.query(
    `INSERT INTO deployments (id, agent, release_digest, upstreams, health_url, match, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, release.agent, release.digest, JSON.stringify(input.upstreams), input.healthUrl ?? null, JSON.stringify(match), at, actor],
  );
  const agent = await getAgent(tx, release.agent);
  const becameStable = !agent?.stableDigest;
  if (becameStable) await setStable(tx, release.agent, release.digest);
  const epoch = await bumpEpoch(tx, at);
  const record: DeploymentRecord = {
    id,
    agent: release.agent,
    release: release.ref,
    releaseDigest: release.digest,
    upstreams: input.upstreams,
    healthUrl: input.healthUrl ?? null,
    match,
    createdAt: at,
    createdBy: actor,
  };
  await appendAudit(tx, {
    actor,
    action: 'deployment.add',
    target: `deployment/${id}`,
    agent: release.agent,
    at,
    after: { ...record, stable: becameStable, epoch },
  });
  return record;
}

export async function listDeployments(q: Queryable, agent?: string): Promise<DeploymentRecord[]> {
  const sql = `SELECT d.*, r.version FROM deployments d JOIN releases r ON r.digest = d.release_digest
               ${agent ? 'WHERE d.agent = $1' : ''} ORDER BY d.agent, d.created_at, d.id`;
  return (await q.query<DeploymentRow>(sql, agent ? [agent] : [])).rows.map(fromRow);
}

/** The newest deployment of a release, which is the one routing uses. */
export async function deploymentOf(q: Queryable, digest: string): Promise<DeploymentRecord | null> {
  const r = await q.query<DeploymentRow>(
    `SELECT d.*, r.version FROM deployments d JOIN releases r ON r.digest = d.release_digest
     WHERE d.release_digest = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT 1`,
    [digest],
  );
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}
