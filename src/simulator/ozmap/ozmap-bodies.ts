import { z } from 'zod';

/**
 * What the simulated OZmap accepts as write bodies. Every body the SDK's own zod schemas
 * (`CreatePropertyDTOSchema`, `UpdatePropertyDTOSchema`, `UpdateFTTHClientDTOSchema`, 1.1.8)
 * let through is accepted; unknown fields, wrong types and ids that are not ObjectIds are
 * refused with 400, as a strict platform would.
 */

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be an ObjectId (24 hex digits)');
const coords = z
  .tuple([z.number(), z.number()])
  .refine(([lng, lat]) => lng >= -180 && lng <= 180 && lat >= -90 && lat <= 90, 'coords must be [lng, lat] in degrees');

const onu = z.strictObject({ user_PPPoE: z.string().trim(), serial_number: z.string().trim(), mac_address: z.string().trim() }).partial();

const clientFields = {
  tags: z.array(objectId).optional(),
  code: z.string().trim().min(1, 'code must not be empty').optional(),
  name: z.string().trim().optional(),
  observation: z.string().trim().optional(),
  implanted: z.boolean().optional(),
  certified: z.boolean().optional(),
  status: z.union([z.literal(0), z.literal(1)]).optional(),
  cpe: z.any().optional(),
  onu: onu.optional(),
  external_id: z.any().optional(),
};

export const clientUpdateBody = z.strictObject(clientFields);
export const clientCreateBody = z.strictObject(clientFields);

const propertyFields = {
  box: objectId.nullish(),
  pole: objectId.nullish(),
  coords: coords.optional(),
  name: z.string().trim().optional(),
  tags: z.array(objectId).optional(),
  address: z.string().nullish(),
  observation: z.string().nullish(),
  potencyRead: z.number().nullish(),
  auto_connect: z.boolean().optional(),
  force: z.boolean().optional(),
  connector: objectId.nullish(),
  port: z.number().int('port must be an integer').min(1, 'port is 1-based').optional(),
  drop_poles: z.array(objectId).optional(),
  external_id: z.any().optional(),
};

export const propertyCreateBody = z.strictObject({
  ...propertyFields,
  project: objectId,
  kind: z.literal('Property').optional(),
  client: z.union([objectId, clientCreateBody]).optional(),
});

export const propertyUpdateBody = z.strictObject({
  ...propertyFields,
  client: z.union([objectId, clientCreateBody]).nullish(),
});

export type ClientBody = z.infer<typeof clientUpdateBody>;
export type PropertyCreateBody = z.infer<typeof propertyCreateBody>;
export type PropertyUpdateBody = z.infer<typeof propertyUpdateBody>;

/** `400` message of a failed parse: each issue as `path: message`. */
export function bodyErrors(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
}
