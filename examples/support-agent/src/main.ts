#!/usr/bin/env node
/**
 * Run the example: `node dist/main.js --release releases/2.3.1 [--port 0] [--model-url URL]`.
 * Without --model-url it starts its own local model server.
 */
import { parseArgs } from 'node:util';
import { createAgent } from './agent.js';
import { startModelServer } from './model-server.js';
import { loadRelease } from './release.js';

const { values } = parseArgs({
  options: { release: { type: 'string' }, port: { type: 'string', default: '0' }, 'model-url': { type: 'string' } },
});
if (!values.release) {
  console.error('usage: support-agent --release <dir> [--port N] [--model-url URL]');
  process.exit(2);
}
const release = await loadRelease(values.release);
const modelUrl = values['model-url'] ?? (await startModelServer()).url;
const agent = createAgent({ release, modelUrl, port: Number(values.port) });
const url = await agent.listen();
console.log(JSON.stringify({ url, release: `${release.agent}@${release.version}`, modelUrl }));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void agent.close().then(() => process.exit(0)));
