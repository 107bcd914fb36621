/**
 * OZmap ids are 24-hex-digit Mongo ObjectIds. The simulator derives them from the shared
 * model's numeric ids, one fixed prefix per entity kind, so they are stable per network and
 * can be read back: `objectIdOf('box', 100042)` ↔ `numericIdOf('box', '65f0c0de03…')`.
 */

const PREFIX = '65f0c0de';

export const OZMAP_KINDS = {
  project: '01',
  pole: '02',
  box: '03',
  splitter: '04',
  client: '05',
  property: '06',
  splitterType: '07',
  boxType: '08',
  poleType: '09',
  fiber: '0a',
} as const;

export type OzmapKind = keyof typeof OZMAP_KINDS;

export function objectIdOf(kind: OzmapKind, id: number): string {
  return `${PREFIX}${OZMAP_KINDS[kind]}${id.toString(16).padStart(14, '0')}`;
}

/** The numeric id behind an ObjectId of `kind`, or null when it is not one. */
export function numericIdOf(kind: OzmapKind, objectId: unknown): number | null {
  if (typeof objectId !== 'string' || !/^[0-9a-f]{24}$/i.test(objectId)) return null;
  const lower = objectId.toLowerCase();
  if (!lower.startsWith(`${PREFIX}${OZMAP_KINDS[kind]}`)) return null;
  return Number.parseInt(lower.slice(10), 16);
}

/** The port id mapsync keeps for an OZmap splitter port: `<splitterId>:<1-based index>`. */
export function ozmapPortId(splitterId: number, portNumber: number): string {
  return `${objectIdOf('splitter', splitterId)}:${portNumber}`;
}
