import type { FastifyInstance, FastifyReply } from 'fastify';
import { BindingError } from '../../bindings/binding-error.ts';
import { BINDING_STATUSES, BINDING_SYNC_STATES, listBindings, type BindingListFilter } from '../../bindings/bindings-list.ts';
import {
  cancelBinding,
  confirmBinding,
  createBinding,
  getBindingView,
  type PortRef,
  type PushSettings,
} from '../../bindings/bindings.service.ts';
import type { AppContext } from '../../service/app-context.ts';
import { isKnownIntegration } from '../../sync/known-integrations.ts';
import { idParamsSchema, idSchema } from '../input-validation.ts';
import { errorResponses } from '../openapi.ts';
import { bindingListItemSchema, bindingViewSchema } from '../presenters/binding-view.schema.ts';

const conflictSchema = {
  type: 'object',
  additionalProperties: true,
  properties: { error: { type: 'string' }, message: { type: 'string' }, bindingId: { type: 'integer' } },
} as const;

const bindingResponses = {
  200: { description: 'the binding', ...bindingViewSchema },
  ...errorResponses,
  409: { description: 'refused: port taken, contract already bound, binding cancelled', ...conflictSchema },
  422: { description: 'refused: contract not active, port not a live service port', ...conflictSchema },
} as const;

const idParams = idParamsSchema('binding id');

/** The push settings of each configured integration, for the binding service. */
export function pushSettingsOf(ctx: AppContext): PushSettings {
  return {
    settingsFor(integrationId) {
      const integration = ctx.integrations.get(integrationId);
      return integration ? { enabled: integration.push.enabled, fields: integration.push.fields } : null;
    },
  };
}

function sendRefusal(reply: FastifyReply, error: unknown) {
  if (error instanceof BindingError) return reply.code(error.status).send(error.toJSON());
  throw error;
}

export async function bindingsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const push = pushSettingsOf(ctx);

  app.post<{ Body: { serviceId: string; portId?: number; integrationId?: string; portExternalId?: string } }>(
    '/v1/bindings',
    {
      schema: {
        summary: 'bind a service contract to a service port (created pending; confirm to push it)',
        description:
          'Name the port by mapsync\'s port id (`portId`, as in the network GeoJSON) or by the platform\'s own port id ' +
          '(`integrationId` + `portExternalId`). Refused with a code when the contract is unknown (404 contract_not_found) ' +
          'or not active (422 contract_not_active), the port is unknown (404 port_not_found), not a service port of a synced ' +
          'splitter (422 not_a_service_port / port_removed), planned on the platform, not built yet (422 port_planned / ' +
          'splitter_planned / box_planned), or taken (409 port_taken / port_unavailable / contract_already_bound). ' +
          'The same contract and port again returns the existing binding (200).',
        tags: ['bindings'],
        body: {
          type: 'object',
          required: ['serviceId'],
          additionalProperties: false,
          properties: {
            serviceId: { type: 'string', minLength: 1, description: "the ERP's id_cliente_servico (a number is taken as text)" },
            portId: idSchema('mapsync port id'),
            integrationId: { type: 'string', minLength: 1 },
            portExternalId: { type: 'string', minLength: 1, description: "the platform's port id" },
          },
        },
        response: { ...bindingResponses, 201: { description: 'the binding, created pending', ...bindingViewSchema } },
      },
    },
    async (request, reply) => {
      const { serviceId, portId, integrationId, portExternalId } = request.body;
      let port: PortRef;
      if (portId !== undefined && integrationId === undefined && portExternalId === undefined) port = { portId };
      else if (portId === undefined && integrationId !== undefined && portExternalId !== undefined) {
        port = { integrationId, portExternalId: String(portExternalId) };
      } else {
        return reply.code(400).send({
          error: 'bad_request',
          message: 'name the port either by portId (mapsync port id) or by integrationId + portExternalId (the platform port id)',
        });
      }
      try {
        const { binding, created } = await createBinding(ctx.knex, { serviceId: String(serviceId).trim(), port });
        return reply.code(created ? 201 : 200).send(binding);
      } catch (error) {
        return sendRefusal(reply, error);
      }
    },
  );

  app.get<{
    Querystring: { integration?: string; status?: BindingListFilter['status']; syncState?: BindingListFilter['syncState']; serviceId?: string; box?: string; boxId?: number; before?: number; limit: number };
  }>(
    '/v1/bindings',
    {
      schema: {
        summary: 'bindings, newest first, filtered',
        description:
          'Filters combine (AND): `integration`, `status`, `syncState` (`failed`: its push is parked, see GET /v1/pushes?status=failed), ' +
          '`serviceId` (the ERP\'s id_cliente_servico, exactly), `box` (part of the box name, any case) or `boxId`. ' +
          '404 when `integration` names no integration, configured or ever synced. ' +
          'Paging: pass `nextBefore` back as `before`; it is null on the last page.',
        tags: ['bindings'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            integration: { type: 'string', minLength: 1, maxLength: 200 },
            status: { type: 'string', enum: [...BINDING_STATUSES] },
            syncState: { type: 'string', enum: [...BINDING_SYNC_STATES] },
            serviceId: { type: 'string', minLength: 1, maxLength: 200 },
            box: { type: 'string', minLength: 1, maxLength: 200, description: 'part of the box (CTO) name, any case' },
            boxId: idSchema('mapsync box id'),
            before: idSchema('only bindings with a smaller id (paging: pass nextBefore)'),
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              bindings: { type: 'array', items: bindingListItemSchema },
              nextBefore: { type: ['integer', 'null'], description: 'pass as `before` for the next page; null on the last one' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { integration, status, syncState, serviceId, box, boxId, before, limit } = request.query;
      const page = await listBindings(ctx.knex, {
        limit,
        ...(integration ? { integrationId: integration } : {}),
        ...(status ? { status } : {}),
        ...(syncState ? { syncState } : {}),
        ...(serviceId ? { serviceId: serviceId.trim() } : {}),
        ...(box?.trim() ? { box: box.trim() } : {}),
        ...(boxId !== undefined ? { boxId } : {}),
        ...(before !== undefined ? { beforeId: before } : {}),
      });
      // An integration with bindings is known: only an empty page needs the check.
      if (integration && page.bindings.length === 0 && !(await isKnownIntegration(ctx.knex, ctx.integrations.keys(), integration))) {
        return reply.code(404).send({ error: 'not_found', message: `no integration "${integration}" is configured or has ever synced` });
      }
      return page;
    },
  );

  app.get<{ Params: { id: number } }>(
    '/v1/bindings/:id',
    {
      schema: {
        summary: 'one binding, with its pushes',
        tags: ['bindings'],
        params: idParams,
        response: { 200: { description: 'the binding', ...bindingViewSchema }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const binding = await getBindingView(ctx.knex, request.params.id);
      if (!binding) return reply.code(404).send({ error: 'binding_not_found', message: `no binding ${request.params.id}` });
      return binding;
    },
  );

  app.post<{ Params: { id: number } }>(
    '/v1/bindings/:id/confirm',
    {
      schema: {
        summary: 'confirm a binding: queues the push of the customer record and the bind, in the same transaction',
        description: 'Confirming again returns the binding as it is and queues nothing more.',
        tags: ['bindings'],
        params: idParams,
        response: bindingResponses,
      },
    },
    async (request, reply) => {
      try {
        const { binding, queued } = await confirmBinding(ctx.knex, request.params.id, push);
        if (queued) ctx.wake.pushes();
        return binding;
      } catch (error) {
        return sendRefusal(reply, error);
      }
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/v1/bindings/:id',
    {
      schema: {
        summary: 'cancel a binding; one already pushed gets an unbind queued',
        tags: ['bindings'],
        params: idParams,
        response: bindingResponses,
      },
    },
    async (request, reply) => {
      try {
        const { binding, unbindQueued } = await cancelBinding(ctx.knex, request.params.id, push);
        if (unbindQueued) ctx.wake.pushes();
        return binding;
      } catch (error) {
        return sendRefusal(reply, error);
      }
    },
  );
}
