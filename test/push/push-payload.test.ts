import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { customerBody } from '../../src/platforms/geogrid/geogrid.wire.ts';
import { backoffDelayMs } from '../../src/push/backoff.ts';
import { buildCustomerPayload, maskedPayload, scrubDocument } from '../../src/push/push-payload.ts';
import type { PushSubject } from '../../src/push/push-subject.ts';

const subject: PushSubject = {
  bindingId: 1,
  integrationId: 'geo',
  bindingStatus: 'confirmed',
  syncState: 'queued',
  platformCustomerExternalId: null,
  serviceId: '4242',
  contractStatus: 'active',
  address: 'Rua A, 1',
  city: 'Campinas',
  state: 'SP',
  zipCode: null,
  document: '12ABC34501DE35',
  name: 'Empresa Nova',
  personType: 'company',
  email: 'contato@example.com',
  phone: '',
  portId: 9,
  portExternalId: '900001',
  portRemoved: false,
  splitterRemoved: false,
  splitterRole: 'service',
  portPlanned: false,
  splitterPlanned: false,
  boxPlanned: false,
  containerExternalId: '100001',
  lat: -22.9,
  lon: -47.06,
};

describe('push payload', () => {
  test('by default: name, document, service id and person type only', () => {
    const payload = buildCustomerPayload(subject, ['name', 'document', 'serviceId']);
    assert.deepEqual(payload, { name: 'Empresa Nova', document: '12ABC34501DE35', personType: 'company', serviceId: '4242' });
    const wire = customerBody(payload).dados;
    assert.deepEqual(Object.keys(wire).sort(), ['codigoIntegracao', 'cpfCnpj', 'nome', 'observacao', 'tipo']);
    assert.equal(wire.tipo, 'J');
  });

  test('whitelisted extras only, and never an empty one', () => {
    const payload = buildCustomerPayload(subject, ['name', 'document', 'serviceId', 'email', 'phone', 'zipCode', 'city']);
    assert.deepEqual(payload.extra, { email: 'contato@example.com', city: 'Campinas' });
  });

  test('the document is masked wherever it is shown', () => {
    const shown = JSON.stringify(maskedPayload({ customer: buildCustomerPayload(subject, []), port: {}, location: {} }));
    assert.doesNotMatch(shown, /12ABC34501DE35/);
    assert.match(shown, /DE35/);
    assert.equal(scrubDocument('cpfCnpj: 12ABC34501DE35 inválido', subject.document).includes('12ABC34501DE35'), false);
  });
});

describe('backoff', () => {
  test('doubles per attempt, capped, with ±50% jitter', () => {
    const options = { baseMs: 1000, maxMs: 60_000 };
    assert.equal(backoffDelayMs(1, options, () => 0.5), 1000);
    assert.equal(backoffDelayMs(2, options, () => 0.5), 2000);
    assert.equal(backoffDelayMs(4, options, () => 0.5), 8000);
    assert.equal(backoffDelayMs(40, options, () => 0.5), 60_000);
    assert.equal(backoffDelayMs(3, options, () => 0), 2000);
    assert.equal(backoffDelayMs(3, options, () => 0.999_999), 6000);
  });
});
