export { createAgent, type AgentOptions, type TurnResult } from './agent.js';
export { loadRelease, type LoadedRelease } from './release.js';
export { startModelServer, respond, classify } from './model-server.js';
export { customerMessage, mulberry32, INTENT_MIX } from './traffic.js';
export { lookupOrder } from './tools.js';

import { fileURLToPath } from 'node:url';
/** The example's two release sources: 2.3.0 (stable) and 2.3.1 (a prompt change). */
export const RELEASES_DIR = fileURLToPath(new URL('../releases', import.meta.url));
