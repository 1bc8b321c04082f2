import type { RouteModule } from '../../app.js';
import { approvalRoutes } from './approvals.js';
import { auditRoutes } from './audit.js';
import { deploymentRoutes } from './deployments.js';
import { releaseRoutes } from './releases.js';
import { rolloutRoutes } from './rollouts.js';
import { routingRoutes } from './routing.js';
import { tokenRoutes } from './tokens.js';

/** Every `/v1` route module of the control API. */
export const CONTROL_ROUTES: RouteModule[] = [releaseRoutes, deploymentRoutes, rolloutRoutes, approvalRoutes, routingRoutes, auditRoutes, tokenRoutes];
