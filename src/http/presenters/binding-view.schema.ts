/**
 * Response schemas of bindings and pushes (BindingView, PushView in bindings.service.ts),
 * for the OpenAPI document. `additionalProperties: true` so a field added to a view is
 * never silently dropped by the response serialiser before its schema catches up.
 */
const nullableString = { type: ['string', 'null'] } as const;

export const pushViewSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    integrationId: { type: 'string' },
    bindingId: { type: 'integer' },
    action: { type: 'string', description: 'bind or unbind' },
    status: { type: 'string', description: 'pending, in_progress, done, failed or cancelled' },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    lastError: nullableString,
    lastStatus: { type: ['integer', 'null'], description: "the platform's last HTTP status" },
    doneAt: { ...nullableString, format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    payload: { description: 'the customer record pushed (document masked)' },
  },
} as const;

export const bindingViewSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    integrationId: { type: 'string' },
    serviceId: { type: 'string' },
    portId: { type: 'integer' },
    portExternalId: { type: 'string' },
    status: { type: 'string', description: 'pending, confirmed or cancelled' },
    syncState: { type: 'string', description: 'not_pushed, queued, pushed, in_sync or failed' },
    platformCustomerExternalId: nullableString,
    confirmedAt: { ...nullableString, format: 'date-time' },
    cancelledAt: { ...nullableString, format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    pushes: { type: 'array', items: pushViewSchema },
  },
} as const;

/** One row of GET /v1/bindings (BindingListItem in bindings-list.ts): a binding without its pushes, located, with its last push. */
const { pushes: _pushes, ...bindingFields } = bindingViewSchema.properties;
export const bindingListItemSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ...bindingFields,
    customerName: { ...nullableString, description: "the ERP's name of the contract holder" },
    port: { type: 'object', properties: { number: { type: 'integer' }, label: nullableString } },
    splitter: { type: 'object', properties: { id: { type: 'integer' }, name: nullableString } },
    box: { type: ['object', 'null'], properties: { id: { type: 'integer' }, name: nullableString } },
    lastPush: {
      type: ['object', 'null'],
      description: 'the latest push of the binding (bind or unbind)',
      properties: {
        id: { type: 'integer' },
        action: { type: 'string' },
        status: { type: 'string' },
        attempts: { type: 'integer' },
        lastError: nullableString,
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;
