import type { Migration } from '../../adapters/store/migrations.js';
import { m0001 } from './0001_control_state.js';
import { m0002 } from './0002_approvals.js';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
export const MIGRATIONS: Migration[] = [m0001, m0002];
