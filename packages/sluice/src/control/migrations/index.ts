import type { Migration } from '../../adapters/store/migrations.js';
import { m0001 } from './0001_control_state.js';
import { m0002 } from './0002_approvals.js';
import { m0003 } from './0003_drain_reports.js';

/** Every migration, in order. Add new ones at the end; never edit one that has shipped. */
export const MIGRATIONS: Migration[] = [m0001, m0002, m0003];
