import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../testing/cli.js';

describe('sluice CLI', () => {
  it('prints help listing its commands and exits 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: sluice/);
    assert.match(r.stdout, /version/);
  });

  it('exits 2 on an unknown command', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  });

  it('prints JSON with --json', async () => {
    const r = await runCli(['version', '--json']);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).version, '0.1.0');
  });
});
