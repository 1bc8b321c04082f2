#!/usr/bin/env node
/**
 * Run the example: `node dist/main.js --release releases/2.3.1 [--port 0] [--model-url URL]
 * [--otlp-url URL --otlp-token TOKEN] [--exit-on-stdin-close]`. Without --model-url it starts its own local model server;
 * with --otlp-url (or SLUICE_OTLP_URL) it exports its spans there over OTLP/HTTP.
 */
import { parseArgs } from 'node:util';
import { createAgent } from './agent.js';
import { startModelServer } from './model-server.js';
import { loadRelease } from './release.js';
import { installOtlpTracing } from './tracing.js';

const { values } = parseArgs({
  options: {
    release: { type: 'string' },
    port: { type: 'string', default: '0' },
    'model-url': { type: 'string' },
    'otlp-url': { type: 'string', default: process.env.SLUICE_OTLP_URL },
    'otlp-token': { type: 'string', default: process.env.SLUICE_OTLP_TOKEN },
    'exit-on-stdin-close': { type: 'boolean', default: false },
  },
});
if (!values.release) {
  console.error('usage: support-agent --release <dir> [--port N] [--model-url URL] [--otlp-url URL --otlp-token TOKEN]');
  process.exit(2);
}
const release = await loadRelease(values.release);
const shutdownTracing = values['otlp-url']
  ? installOtlpTracing({ url: values['otlp-url'], ...(values['otlp-token'] ? { token: values['otlp-token'] } : {}), serviceName: release.agent })
  : async () => {};
const modelUrl = values['model-url'] ?? (await startModelServer()).url;
const agent = createAgent({ release, modelUrl, port: Number(values.port) });
const url = await agent.listen();
console.log(JSON.stringify({ url, release: `${release.agent}@${release.version}`, modelUrl }));
const stop = () => {
  // Flush what we can, but never hang on a collector or a client that is gone.
  setTimeout(() => process.exit(0), 2000).unref();
  void agent.close().then(shutdownTracing, shutdownTracing).finally(() => process.exit(0));
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, stop);
// For a supervising parent (sluice demo): when its end of our stdin closes, it is gone, even if
// it was killed without a chance to stop us, and we must not outlive it.
if (values['exit-on-stdin-close']) process.stdin.on('end', stop).on('error', stop).resume();
