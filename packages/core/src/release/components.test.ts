import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalBytes } from '../canonical/canonical-json.js';
import { digestOfJson, sha256 } from '../canonical/digest.js';
import { assembleManifest, blobComponent, inlineComponents, inlineValueMatches, promptMediaType, toolFacts, valueComponent } from './components.js';
import { MEDIA_TYPES } from './manifest.js';
import { validateAgentSource } from './source.js';

describe('components and manifest assembly', () => {
  it('hashes inline values as canonical JSON', () => {
    const { component, bytes } = valueComponent('runtime', { timeoutMs: 30000, retries: 2 });
    assert.equal(component.digest, digestOfJson({ retries: 2, timeoutMs: 30000 }));
    assert.equal(component.size, bytes.byteLength);
    assert.deepEqual(bytes, canonicalBytes({ retries: 2, timeoutMs: 30000 }));
    assert.equal(component.mediaType, MEDIA_TYPES.json);
    assert.equal(inlineValueMatches(component).ok, true);
    assert.equal(inlineValueMatches({ ...component, value: { timeoutMs: 1 } }).ok, false);
  });

  it('treats reordered lists of names as the same release', () => {
    const base = { agent: 'a', version: '1.0.0', model: { provider: 'p', name: 'm' } };
    const one = inlineComponents(validateAgentSource({ ...base, secrets: ['B', 'A'], integrations: [{ name: 'z', scopes: ['w', 'r'] }, { name: 'y', scopes: [] }] }));
    const two = inlineComponents(validateAgentSource({ ...base, secrets: ['A', 'B'], integrations: [{ name: 'y' }, { name: 'z', scopes: ['r', 'w'] }] }));
    assert.deepEqual(one.map((c) => c.component.digest), two.map((c) => c.component.digest));
    assert.deepEqual(one.map((c) => c.component.kind), ['model', 'integrations', 'secrets']);
  });

  it('sorts components by kind then name and rejects duplicates', () => {
    const p = (name: string) => blobComponent('prompt', name, promptMediaType(`${name}.md`), new TextEncoder().encode(name)).component;
    const m = assembleManifest('a', '1.0.0', [p('triage'), valueComponent('notes', {}).component, p('system'), valueComponent('model', { provider: 'x', name: 'y' }).component]);
    assert.deepEqual(m.components.map((c) => `${c.kind}/${c.name}`), ['model/model', 'prompt/system', 'prompt/triage', 'notes/notes']);
    assert.equal(m.components[1]!.digest, sha256('system'));
    assert.throws(() => assembleManifest('a', '1.0.0', [p('x'), p('x')]), /two prompt components are named x/);
  });

  it('normalizes tool facts', () => {
    assert.deepEqual(toolFacts({ risk: 'high', external: true, tags: ['money', 'customer-data', 'money'] }), { risk: 'high', external: true, tags: ['customer-data', 'money'] });
    assert.deepEqual(toolFacts({ risk: 'low', external: false, tags: [] }), { risk: 'low' });
    assert.equal(promptMediaType('a.txt'), MEDIA_TYPES.text);
  });
});
