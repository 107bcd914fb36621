import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../service/app-context.ts';
import { healthRoutes } from './health.routes.ts';

export type RouteModule = (app: FastifyInstance, ctx: AppContext) => Promise<void>;

/** Every route module of the API; each file owns one resource. */
export const routeModules: RouteModule[] = [healthRoutes];
