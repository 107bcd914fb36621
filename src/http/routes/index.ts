import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { bindingsRoutes } from './bindings.routes.ts';
import { customersRoutes } from './customers.routes.ts';
import { dashboardRoutes } from './dashboard.routes.ts';
import { healthRoutes } from './health.routes.ts';
import { integrationsRoutes } from './integrations.routes.ts';
import { mapRoutes } from './map.routes.ts';
import { networkRoutes } from './network.routes.ts';
import { openapiRoutes } from './openapi.routes.ts';
import { pushesRoutes } from './pushes.routes.ts';
import { syncRunsRoutes } from './sync-runs.routes.ts';
import { tilesRoutes } from './tiles.routes.ts';
import { viabilityRoutes } from './viability.routes.ts';

export type RouteModule = (app: FastifyInstance, ctx: AppContext) => Promise<void>;

/** Every route module of the API; each file owns one resource. */
export const routeModules: RouteModule[] = [
  healthRoutes,
  integrationsRoutes,
  syncRunsRoutes,
  networkRoutes,
  tilesRoutes,
  viabilityRoutes,
  mapRoutes,
  customersRoutes,
  bindingsRoutes,
  pushesRoutes,
  openapiRoutes,
  dashboardRoutes,
];
