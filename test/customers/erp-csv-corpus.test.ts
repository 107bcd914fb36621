/**
 * Every ERP export of test/fixtures/erp-csv/ (written by make-corpus.ts) is imported into
 * PostGIS and checked against its `.expected.json`: exactly the contracts listed are saved,
 * with their values; every error and warning is on its line; the counts add up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsvImportError, importContractsCsv } from '../../src/customers/customers-csv-import.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.ts';
import type { ExpectedContract, ExpectedImport } from '../fixtures/erp-csv/make-corpus.ts';

const corpus = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'erp-csv');
const files = readdirSync(corpus).filter((name) => name.endsWith('.csv')).sort();

const FIELD_COLUMNS: Record<keyof ExpectedContract, string> = {
  document: 'document',
  name: 'name',
  status: 'status',
  personType: 'person_type',
  address: 'address',
  email: 'email',
  phone: 'phone',
  city: 'city',
  state: 'state',
  zipCode: 'zip_code',
  lat: 'lat',
  lon: 'lon',
};

describe('ERP CSV corpus', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.destroy();
  });

  const contractCount = async () => Number((await db.knex('service_contracts').count({ n: '*' }).first())!.n);

  test('holds at least 30 exports, each with its expectations', () => {
    assert.ok(files.length >= 30, `only ${files.length} files`);
    for (const file of files) assert.ok(readdirSync(corpus).includes(file.replace(/\.csv$/, '.expected.json')), file);
  });

  for (const file of files) {
    const expected = JSON.parse(readFileSync(path.join(corpus, file.replace(/\.csv$/, '.expected.json')), 'utf8')) as ExpectedImport;
    test(`${file}: ${expected.about}`, async () => {
      const before = await contractCount();
      if (expected.refused) {
        await assert.rejects(importContractsCsv(db.knex, path.join(corpus, file)), (error: unknown) => {
          assert.ok(error instanceof CsvImportError, String(error));
          assert.match(error.message, new RegExp(expected.refused!));
          return true;
        });
        assert.equal(await contractCount(), before, 'a refused file saves nothing');
        return;
      }
      const result = await importContractsCsv(db.knex, path.join(corpus, file));
      const saved = expected.saved ?? {};
      const savedCount = Object.keys(saved).length;
      assert.equal(result.rows, result.saved + result.rejectedRows + result.skippedRows, 'rows = saved + rejected + skipped');
      if (expected.rows !== undefined) assert.equal(result.rows, expected.rows, 'rows');
      assert.equal(result.saved, savedCount, 'saved');
      assert.equal(result.created, savedCount, 'every contract of the corpus is new');
      assert.equal(result.rejectedRows, expected.rejected ?? 0, 'rejected rows');
      assert.equal(result.skippedRows, expected.skipped ?? 0, 'skipped rows');
      if (expected.encoding) assert.equal(result.encoding, expected.encoding);
      assert.equal(result.headerLine, expected.headerLine ?? 1, 'header line');
      if (expected.assumedStatus !== undefined) assert.equal(result.assumedStatus, expected.assumedStatus);
      if (expected.ignoredColumns) assert.deepEqual(result.ignoredColumns, expected.ignoredColumns);
      if (expected.unrecognisedColumns) assert.deepEqual(result.unrecognisedColumns.map((c) => c.header), expected.unrecognisedColumns);

      const notes = (list: { line: number; field: string; message: string }[]) => list.map((e) => [e.line, e.field, e.message]);
      const check = (actual: (string | number)[][], wanted: [number, string, string][], what: string) => {
        assert.deepEqual(actual.map(([line, field]) => [line, field]), wanted.map(([line, field]) => [line, field]), `${what}: ${JSON.stringify(actual)}`);
        wanted.forEach(([, , pattern], i) => assert.match(String(actual[i]![2]), new RegExp(pattern), what));
      };
      check(notes(result.errors), expected.errors ?? [], 'errors');
      check(notes(result.warnings), expected.warnings ?? [], 'warnings');

      assert.equal(await contractCount(), before + savedCount, 'exactly the expected contracts are in the database');
      for (const [serviceId, want] of Object.entries(saved)) {
        const row = await db
          .knex('service_contracts as s')
          .join('erp_customers as c', 'c.id', 's.erp_customer_id')
          .where('s.service_id', serviceId)
          .first(
            'c.document', 'c.name', 'c.person_type', 'c.email', 'c.phone', 's.status', 's.address', 's.city', 's.state', 's.zip_code',
            db.knex.raw('ST_Y(s.geom) AS lat'), db.knex.raw('ST_X(s.geom) AS lon'),
          );
        assert.ok(row, `contract ${serviceId} is saved`);
        for (const [key, value] of Object.entries(want)) {
          const column = FIELD_COLUMNS[key as keyof ExpectedContract];
          assert.deepEqual(row[column] ?? null, value, `${serviceId}.${key}`);
        }
        assert.doesNotMatch(JSON.stringify(row), /\uFFFD|Ã[\u0080-\u00bf]/, 'no replacement or twice-decoded characters are stored');
      }
    });
  }
});
