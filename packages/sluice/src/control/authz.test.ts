import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKENDS } from '../adapters/store/testing.js';
import { ROLES, roleAtLeast, type Role } from './auth/roles.js';
import { startTestControl, type TestControl } from './testing.js';
import { createAnalysisService } from '../analysis/service.js';

/**
 * Every operation in the OpenAPI document × every role, plus no token and a revoked token. The
 * list comes from the document, so a new endpoint is covered (and must declare its role) the
 * moment it exists.
 */
for (const backend of BACKENDS) {
  describe(`authorization matrix on ${backend}`, () => {
    let t: TestControl;
    const tokens = {} as Record<Role, string>;
    let revoked = '';
    before(async () => {
      // With telemetry's routes too, as `sluice up` serves them: ingest and analysis are in the matrix.
      t = await startTestControl(backend, { routes: [(await createAnalysisService()).routes] });
      for (const role of ROLES) {
        const r = await t.call('POST', '/v1/tokens', { body: { subject: `matrix-${role}`, role } });
        assert.equal(r.status, 201);
        tokens[role] = r.body.token;
      }
      const r = await t.call('POST', '/v1/tokens', { body: { subject: 'gone', role: 'admin' } });
      revoked = r.body.token;
      assert.equal((await t.call('POST', `/v1/tokens/${r.body.info.id}/revoke`, { body: { reason: 'left the team' } })).status, 200);
    });
    after(async () => {
      await t?.dispose();
    });

    it('answers 401 without a token, with a revoked or unknown token, and 403 below the role; never either at or above it', async () => {
      const doc = (await t.call('GET', '/v1/openapi.json', { token: null })).body as {
        paths: Record<string, Record<string, { 'x-sluice-role'?: Role }>>;
      };
      let checked = 0;
      for (const [template, methods] of Object.entries(doc.paths)) {
        const path = template.replace(/\{[^}]+\}/g, 'x');
        for (const [method, op] of Object.entries(methods)) {
          const need = op['x-sluice-role'];
          assert.ok(need, `${method.toUpperCase()} ${template} declares x-sluice-role`);
          const call = (token: string | null) => t.call(method.toUpperCase(), path, { token, body: method === 'get' ? undefined : {} });
          const what = (who: string) => `${method.toUpperCase()} ${template} as ${who}`;

          const none = await call(null);
          assert.equal(none.status, 401, what('nobody'));
          assert.equal(none.body.error.kind, 'unauthenticated');
          assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
          assert.equal((await call(revoked)).status, 401, what('a revoked token'));
          assert.equal((await call('slt_nope_nope')).status, 401, what('an unknown token'));
          for (const role of ROLES) {
            const r = await call(tokens[role]);
            if (roleAtLeast(role, need)) assert.ok(r.status !== 401 && r.status !== 403, `${what(role)}: got ${r.status} ${JSON.stringify(r.body)}`);
            else {
              assert.equal(r.status, 403, what(role));
              assert.equal(r.body.error.kind, 'forbidden');
              assert.match(r.body.error.message, new RegExp(`needs the ${need} role`));
            }
          }
          checked++;
        }
      }
      assert.ok(checked >= 15, `checked ${checked} operations`);
    });
  });
}
