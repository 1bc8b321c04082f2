// Runs slices of a scenario's rollouts in a worker thread; rollouts are seeded by index, so
// the figures do not depend on how many workers there are.
import { parentPort } from 'node:worker_threads';
import { analysisSimulation } from '@sluice/core';

interface Task {
  id: number;
  options: analysisSimulation.ScenarioOptions;
  from: number;
  to: number;
}

parentPort!.on('message', (t: Task) => {
  parentPort!.postMessage({ id: t.id, outcomes: analysisSimulation.simulateRollouts(t.options, t.from, t.to) });
});
