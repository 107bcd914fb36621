/**
 * Nothing secret or personal reaches a log: every log line of a full sync, an import (HTTP
 * and CSV), a push and the error paths is captured at trace level and scanned for every
 * document of the fixture data and for the tokens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type pino from 'pino';
import { main } from '../../src/cli/main.ts';
import { normaliseDocument } from '../../src/domain/documents.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { maskDocumentsInText, redactUrl } from '../../src/observability/log-scrubbing.ts';
import { erpContractsFor } from '../../src/simulator/network-generator.ts';
import { waitForRunEnd } from '../helpers/run-waiting.ts';
import { startTestService, type TestService } from '../helpers/test-service.ts';
import { cpfFor, waitFor } from '../push/helpers/push-fixtures.ts';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('logs carry no document and no token', () => {
  const logs = new Capture();
  const cliOutput = new Capture();
  let svc: TestService;
  let workDir: string;
  const csvDocuments = [cpfFor(901), cpfFor(902), '529.982.247-25', '12.ABC.345/01DE-35'];

  before(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'mapsync-log-scan-'));
    svc = await startTestService({
      logger: createLogger({ level: 'trace', destination: logs as unknown as pino.DestinationStream }),
      integration: { push: { fields: ['email', 'state'] } },
    });
  });
  after(async () => {
    await svc?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test('a full sync, imports, a push and the error paths', { timeout: 120_000 }, async () => {
    // Import over HTTP: the ERP side of the simulated network, and one bad item.
    const contracts = erpContractsFor(svc.simulator.network).map((c) => ({ ...c, email: `${c.serviceId}@example.com`, state: 'SP' }));
    for (let i = 0; i < contracts.length; i += 1000) {
      const response = await svc.request('POST', '/v1/customers', { items: contracts.slice(i, i + 1000) });
      assert.equal(response.status, 200);
    }
    const badItems = await svc.request('POST', '/v1/customers', {
      items: [
        { serviceId: 'LS1', document: cpfFor(903), name: 'Nul\u0000' },
        { serviceId: 'LS2', document: '123.456.789-00', name: 'Wrong digits' },
      ],
    });
    assert.equal(badItems.body.errors.length, 2);

    // Import from a CSV through the CLI, logging at trace level to its stderr.
    const csv = path.join(workDir, 'contracts.csv');
    writeFileSync(
      csv,
      ['serviceId;document;name', ...csvDocuments.map((doc, i) => `CSV${i};${doc};Pessoa ${i}`), 'CSV9;111.222.333-44;Bad digits'].join('\n'),
    );
    const code = await main(['node', 'mapsync', 'customers', 'import', csv], {
      stdout: cliOutput,
      stderr: cliOutput,
      env: { ...svc.env, LOG_LEVEL: 'trace' },
    });
    // Exit 1: one row was rejected, the others saved.
    assert.equal(code, 1, cliOutput.text);
    assert.match(cliOutput.text, /4 contract\(s\) saved/);

    // A full sync.
    const queued = await svc.request('POST', `/v1/integrations/${svc.integrationId}/sync`, { full: true });
    assert.equal((await waitForRunEnd(svc, queued.body.runId, 60_000)).status, 'succeeded');

    // A push: an ERP-only contract bound to a free service port, confirmed, delivered.
    const erpOnly = svc.simulator.network.erpOnly[0]!;
    const port = await svc.db
      .knex('ports as p')
      .join('splitters as s', 's.id', 'p.splitter_id')
      .where({ 's.role': 'service', 'p.available': true, 's.integration_id': svc.integrationId })
      .whereNull('p.removed_at')
      .first('p.id');
    const binding = await svc.request('POST', '/v1/bindings', { serviceId: erpOnly.serviceId, portId: Number(port.id) });
    assert.equal(binding.status, 201, JSON.stringify(binding.body));
    assert.equal((await svc.request('POST', `/v1/bindings/${binding.body.id}/confirm`)).status, 200);
    const pushes = await waitFor('the push to be delivered', async () => {
      const rows = await svc.db.knex('push_outbox').where({ binding_id: binding.body.id });
      return rows.length > 0 && rows.every((row: { status: string }) => row.status === 'done') ? rows : null;
    });

    // Once delivered the outbox keeps no full document and no optional field values.
    for (const row of pushes as { payload: { customer: { document: string; extra?: Record<string, string> } } }[]) {
      assert.ok(!row.payload.customer.document.includes(erpOnly.document.slice(0, 7)), row.payload.customer.document);
      assert.match(row.payload.customer.document, /^\*+\d{4}$/);
      assert.deepEqual(row.payload.customer.extra, { email: '[removed]', state: '[removed]' });
    }

    // Error paths: a token in the query string, a wrong token, a failed SQL quoting a document, a 500.
    assert.equal((await svc.request('GET', `/v1/sync-runs?token=${svc.apiToken}`)).status, 400);
    assert.equal((await svc.request('GET', `/v1/sync-runs?api_key=${svc.simulator.token}&x=1`)).status, 400);
    assert.equal((await svc.request('GET', '/v1/sync-runs', undefined, { token: svc.simulator.token })).status, 401);
    const quoted = await svc.db.knex
      .raw('SELECT ?::jsonb', [`[{"document":"${contracts[0]!.document}","name":"\\ud800"}]`])
      .catch((error: unknown) => error as Error & { where?: string });
    assert.ok(quoted instanceof Error, 'the bad JSON failed in PostgreSQL');
    assert.ok(`${quoted.message} ${(quoted as { where?: string }).where ?? ''}`.includes(contracts[0]!.document), 'PostgreSQL quoted the document');
    svc.ctx.logger.error({ err: quoted }, 'failed SQL');
    svc.ctx.logger.error(quoted);
    await svc.db.knex.raw('ALTER TABLE service_contracts RENAME COLUMN service_id TO service_id_x');
    try {
      const failed = await svc.request('POST', '/v1/customers', { items: [contracts[1]] });
      assert.equal(failed.status, 500);
      assert.doesNotMatch(JSON.stringify(failed.body), /service_contracts|select|insert/i);
    } finally {
      await svc.db.knex.raw('ALTER TABLE service_contracts RENAME COLUMN service_id_x TO service_id');
    }

    const text = logs.text + cliOutput.text;
    assert.ok(text.split('\n').length > 50, 'the scan saw the logs');
    assert.match(text, /sync-runs\?token=\[redacted\]/, 'the access log kept the URL, token redacted');

    const secrets = new Set<string>([svc.apiToken, svc.simulator.token]);
    for (const secret of secrets) assert.ok(!text.includes(secret), 'a token reached the log');

    const documents = new Set<string>([...contracts.map((c) => c.document), ...csvDocuments, cpfFor(903), '123.456.789-00', '111.222.333-44']);
    for (const customer of svc.simulator.network.customers.values()) {
      if (customer.cleanDocument) documents.add(customer.cleanDocument);
      if (customer.cpfCnpj && customer.cpfCnpj.replace(/\W/g, '').length >= 11) documents.add(customer.cpfCnpj);
    }
    const lowered = text.toLowerCase();
    const found = [...documents].filter((doc) => lowered.includes(doc.toLowerCase()));
    assert.deepEqual(found, [], 'full documents in the logs');
  });

  test('masking and redaction rules (table)', () => {
    const cases: [string, string][] = [
      ['JSON data, line 1: [{"document":"52998224725"', 'JSON data, line 1: [{"document":"*******4725"'],
      ['cpf 529.982.247-25 failed', 'cpf ***.***.*47-25 failed'],
      ['cnpj 11.222.333/0001-81.', 'cnpj **.***.***/**01-81.'],
      ['12.ABC.345/01DE-35 and 12abc34501de35', '**.***.***/**DE-35 and **********de35'],
      ['wrong digits 123.456.789-00', 'wrong digits ***.***.*89-00'],
      ['leading zeros dropped 4567890140', 'leading zeros dropped ********40'],
      ['run 1732934400000 took 12345 ms, id 900005', 'run 1732934400000 took 12345 ms, id 900005'],
      ['applied 20261124050000_initial_schema.ts', 'applied 20261124050000_initial_schema.ts'],
      ['not a date 20261399050000', 'not a date **********0000'],
      ['mobile 11987654321', 'mobile *******4321'],
      ['sim-17387 and UUID 5f0c3a5e-1b2c-4d3e-8f9a-0b1c2d3e4f5a', 'sim-17387 and UUID 5f0c3a5e-1b2c-4d3e-8f9a-0b1c2d3e4f5a'],
    ];
    for (const [input, expected] of cases) assert.equal(maskDocumentsInText(input), expected, input);
    assert.ok(normaliseDocument('4567890140').ok, 'the dropped-zeros example is a valid CPF');

    const urls: [string, string][] = [
      ['/v1/sync-runs?token=abc&integration=x', '/v1/sync-runs?token=[redacted]&integration=x'],
      ['/v1/x?API_KEY=1&apikey=2&Api-Key=3&password=4&secret=5&authorization=6&key=7', '/v1/x?API_KEY=[redacted]&apikey=[redacted]&Api-Key=[redacted]&password=[redacted]&secret=[redacted]&authorization=[redacted]&key=[redacted]'],
      ['/v1/x?access_token=a&client_secret=b&kinds=poles', '/v1/x?access_token=[redacted]&client_secret=[redacted]&kinds=poles'],
      ['/v1/x?%74oken=a', '/v1/x?%74oken=[redacted]'],
      ['/v1/x?document=52998224725', '/v1/x?document=*******4725'],
      ['/v1/sync-runs', '/v1/sync-runs'],
    ];
    for (const [input, expected] of urls) assert.equal(redactUrl(input), expected, input);
  });
});
