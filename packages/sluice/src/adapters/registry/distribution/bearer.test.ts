/**
 * The Bearer token flow (distribution's token auth) and a relative upload Location, end to end:
 * a small token-auth front (as a registry behind an auth server would behave) that answers
 * 401 with a Bearer challenge, issues tokens for Basic credentials at its realm, and forwards
 * authorized requests to a real docker-registry, rewriting Location headers to relative paths.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { isSluiceError, sha256 } from '@sluice/core';
import { startRegistry, type TestRegistry } from '../../../testing/registry.js';
import { DistributionRegistry, OCI_MANIFEST } from './distribution.js';

const USER = 'robot';
const PASSWORD = 'token-pass';
let reg: TestRegistry;
let front: Server;
let host: string;
const issued = new Map<string, string>(); // token → scope
const seen = { tokenRequests: [] as string[], relativeLocations: 0 };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

before(async () => {
  reg = await startRegistry();
  front = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname === '/token') {
        const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
        seen.tokenRequests.push(url.searchParams.get('scope') ?? '');
        if (req.headers.authorization !== basic || url.searchParams.get('service') !== 'sluice-test') {
          res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        const token = randomBytes(16).toString('hex');
        issued.set(token, url.searchParams.get('scope') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
        return;
      }
      const repo = /^\/v2\/(.+?)\/(blobs|manifests|tags|referrers)\//.exec(url.pathname)?.[1];
      const needs = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const scope = token ? issued.get(token) : undefined;
      const allowed = url.pathname === '/v2/' ? scope !== undefined : scope?.startsWith(`repository:${repo}:`) && scope.split(':')[2]!.split(',').includes(needs);
      if (!allowed) {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${host}/token",service="sluice-test",scope="repository:${repo ?? ''}:${needs}"`,
            'content-type': 'application/json',
          })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'authorization', 'content-length', 'connection'].includes(k)) headers[k] = v;
      const upstream = await fetch(`http://${reg.host}${url.pathname}${url.search}`, { method: req.method, headers, body, redirect: 'manual' });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k === 'location') {
          // The relative form some registries send: the client must resolve it against the request.
          const loc = new URL(v, `http://${reg.host}`);
          out[k] = `${loc.pathname}${loc.search}`;
          seen.relativeLocations++;
        } else if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
      });
      const payload = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, out).end(req.method === 'HEAD' ? undefined : payload);
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => front.close(resolve));
  await reg.stop();
});

test('Bearer: tokens are fetched from the realm with Basic credentials, per scope; relative Locations work', async () => {
  const r = new DistributionRegistry({ registry: host, repository: 'team/agent' }, { credentials: { username: USER, password: PASSWORD } });
  try {
    const layer = await r.putBlob(new TextEncoder().encode('behind a token server'), 'text/plain');
    const config = await r.putBlob(new TextEncoder().encode('{}'), 'application/vnd.oci.empty.v1+json');
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] }));
    const put = await r.putManifest(bytes, OCI_MANIFEST, 'v1');
    assert.equal(put.digest, sha256(bytes));
    assert.deepEqual(Buffer.from((await r.getManifest('v1')).bytes), Buffer.from(bytes));
    assert.deepEqual(await r.tags(), ['v1']);
    assert.ok(seen.relativeLocations >= 2, 'uploads went through relative Location headers');
    // One token per scope the client needed, not one per request.
    assert.deepEqual([...new Set(seen.tokenRequests)].sort(), ['repository:team/agent:pull', 'repository:team/agent:pull,push']);
    assert.equal(seen.tokenRequests.length, 2);
  } finally {
    await r.close();
  }
});

test('Bearer: wrong credentials at the token realm are unauthenticated (exit 4)', async () => {
  const r = new DistributionRegistry({ registry: host, repository: 'team/agent' }, { credentials: { username: USER, password: 'nope' } });
  try {
    await assert.rejects(r.getManifest('v1'), (e: unknown) => isSluiceError(e) && e.kind === 'unauthenticated' && e.message.includes(host));
  } finally {
    await r.close();
  }
});
