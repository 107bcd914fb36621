/**
 * The minimal, whitelisted record pushed to a platform (DESIGN.md, Push rules): name,
 * document, the service id (observation + integration code) and the person type derived
 * from the document. Anything else only when the admin lists it in `push.fields`.
 */
import { maskDocument } from '../domain/documents.ts';
import type { CustomerPayload } from '../platforms/platform-adapter.ts';
import type { PushSubject } from './push-subject.ts';

/** Optional fields, by `push.fields` name, read from the subject. */
const EXTRA_FIELDS = {
  email: (s: PushSubject) => s.email,
  phone: (s: PushSubject) => s.phone,
  address: (s: PushSubject) => s.address,
  city: (s: PushSubject) => s.city,
  state: (s: PushSubject) => s.state,
  zipCode: (s: PushSubject) => s.zipCode,
} as const satisfies Record<string, (s: PushSubject) => string | null>;

type ExtraField = keyof typeof EXTRA_FIELDS;

/** What an outbox row carries: the customer record, and where to bind it. */
export interface PushPayload {
  customer: CustomerPayload;
  port: { externalId: string; containerExternalId: string };
  location: { lat: number | null; lon: number | null };
}

export function buildCustomerPayload(subject: PushSubject, fields: readonly string[]): CustomerPayload {
  const payload: CustomerPayload = {
    name: subject.name,
    document: subject.document,
    personType: subject.personType,
    serviceId: subject.serviceId,
  };
  const extra: Record<string, string> = {};
  for (const field of fields) {
    if (!Object.hasOwn(EXTRA_FIELDS, field)) continue;
    // An empty value is left out rather than sent as null, so it never blanks what the platform holds.
    const value = EXTRA_FIELDS[field as ExtraField](subject);
    if (value !== null && value !== '') extra[field] = value;
  }
  if (Object.keys(extra).length > 0) payload.extra = extra;
  return payload;
}

export function buildPushPayload(subject: PushSubject, fields: readonly string[]): PushPayload {
  return {
    customer: buildCustomerPayload(subject, fields),
    port: { externalId: subject.portExternalId, containerExternalId: subject.containerExternalId },
    location: { lat: subject.lat, lon: subject.lon },
  };
}

/** The payload as shown by the API and the logs: the document masked. */
export function maskedPayload(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object') return payload;
  const p = payload as Partial<PushPayload>;
  if (!p.customer || typeof p.customer.document !== 'string') return payload;
  return { ...p, customer: { ...p.customer, document: maskDocument(p.customer.document) } };
}

/** Text (an error message) with any copy of the document replaced by its masked form. */
export function scrubDocument(text: string, document: string | null | undefined): string {
  if (!document || document.length < 6) return text;
  return text.split(document).join(maskDocument(document));
}
