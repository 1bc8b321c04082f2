/**
 * The gateway under load: an active canary rollout (10%, session units, in-memory affinity)
 * whose baseline and candidate both point at the bench upstream.
 */
import { sha256 } from '@sluice/core';
import { Gateway, Measurements, StaticConfigSource } from '../../packages/sluice/src/gateway/index.js';

const [port, upstream] = [Number(process.argv[2]), process.argv[3] as string];
const rel = (name: string) => ({ release: name, digest: sha256(name), upstreams: [upstream], memoryNamespace: `mem/${name}` });
// Measurements are consumed as under `sluice up`: a subscriber called per request (here it
// only counts per cohort), no pull buffer.
const measurements = new Measurements(0);
const perCohort = { baseline: 0, canary: 0, shadow: 0 };
measurements.subscribe((e) => {
  if (e.type === 'request') perCohort[e.measurement.cohort]++;
});
const gw = new Gateway({
  port,
  measurements,
  source: new StaticConfigSource({
    epoch: 1,
    generatedAt: new Date().toISOString(),
    agents: [
      {
        agent: 'support-agent',
        match: { pathPrefix: '/' },
        affinityTtlSeconds: 1800,
        baseline: rel('support-agent@2.3.0'),
        rollout: { id: 'bench-rollout', strategy: 'canary', unit: 'session', weight: 10, candidate: rel('support-agent@2.3.1') },
      },
    ],
  }),
});
await gw.start();
console.log(`ready ${gw.port}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    console.log(`served ${JSON.stringify(perCohort)}`);
    void gw.stop().finally(() => process.exit(0));
  });
