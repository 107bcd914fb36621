import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { detectDelimiter } from '../../src/customers/customers-csv-import.ts';
import { createTestDatabase, isEmbeddedTestDatabase, testDatabaseUrl, type TestDatabase } from '../helpers/test-database.ts';
import { cpfFor } from '../push/helpers/push-fixtures.ts';

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('mapsync customers import <file.csv>', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(path.join(tmpdir(), 'mapsync-import-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.destroy();
  });

  async function run(...args: string[]) {
    return runWith(false, ...args);
  }

  async function runWith(tty: boolean, ...args: string[]) {
    const stdout = new Capture();
    const stderr = new Capture();
    stderr.isTTY = tty;
    const env = {
      ...process.env,
      DATABASE_URL: testDatabaseUrl(),
      DATABASE_SCHEMA: db.schema,
      LOG_LEVEL: 'silent',
      ...(isEmbeddedTestDatabase ? { DATABASE_POOL_MAX: '1' } : {}),
    };
    const code = await main(['node', 'mapsync', 'customers', 'import', ...args], { stdout, stderr, env });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  function csv(name: string, content: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  test('a ";" file with a BOM, Portuguese headers and quoted fields: every row saved, exit 0', async () => {
    const file = csv(
      'erp.csv',
      '\uFEFFid_cliente_servico;CPF_CNPJ;Nome;Situacao;Endereco;Latitude;Longitude;Extra\r\n' +
        `501;${cpfFor(501).replace(/^(\d{3})(\d{3})(\d{3})(\d{2})$/, '$1.$2.$3-$4')};Ana Souza;ativo;"Rua A; 10";-22,9;-47,06;x\r\n` +
        '502;12.ABC.345/01DE-35;Empresa Nova;suspenso;;;;\r\n' +
        '\r\n',
    );
    const { code, stdout } = await run(file);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /2 row\(s\); 2 contract\(s\) saved \(2 created, 0 updated, 0 unchanged\); 0 row\(s\) rejected/);
    const ana = await db.knex('service_contracts').where({ service_id: '501' }).first('address', db.knex.raw('ST_Y(geom) AS lat'));
    assert.equal(ana.address, 'Rua A; 10');
    assert.equal(ana.lat, -22.9);
    const company = await db.knex('service_contracts as s').join('erp_customers as c', 'c.id', 's.erp_customer_id').where('s.service_id', '502').first('c.document', 'c.person_type', 's.status');
    assert.deepEqual(company, { document: '12ABC34501DE35', person_type: 'company', status: 'suspended' });

    const again = await run(file, '--json');
    assert.equal(again.code, 0);
    assert.equal(JSON.parse(again.stdout).unchanged, 2);
  });

  test('bad rows are listed with their line numbers, good ones saved, exit 1', async () => {
    const rows = ['service_id,document,name,status'];
    for (let i = 0; i < 2500; i += 1) rows.push(`C${i},${cpfFor(10_000 + i)},Cliente ${i},active`);
    rows[3] = 'C2,123.456.789-00,Bad Document,active';
    rows[1201] = 'C1200,,No Document,active';
    rows.push(`C5,${cpfFor(10_005)},Twice,active`);
    const file = csv('big.csv', `${rows.join('\n')}\n`);
    const { code, stdout } = await run(file);
    assert.equal(code, 1, stdout);
    assert.match(stdout, /2501 row\(s\); 2498 contract\(s\) saved/);
    assert.match(stdout, /3 row\(s\) rejected/);
    assert.match(stdout, /line 4 \(service C2\): document has wrong check digits/);
    assert.match(stdout, /line 1202 \(service C1200\): document is required/);
    assert.match(stdout, /line 2502 \(service C5\): serviceId appears again \(first at line 7\)/);
    assert.doesNotMatch(stdout, /12345678900/, 'documents are masked');
    assert.equal(Number((await db.knex('service_contracts').where('service_id', 'like', 'C%').count({ n: '*' }).first())!.n), 2498);
    const json = JSON.parse((await run(file, '--json')).stdout);
    assert.deepEqual(json.errors.map((e: { line: number; field: string }) => [e.line, e.field]), [[4, 'document'], [1202, 'document'], [2502, 'serviceId']]);
    assert.equal(json.unchanged, 2498);
  });

  test('on a terminal a progress bar is drawn on stderr; stdout keeps the summary', async () => {
    const rows = ['service_id;document;name'];
    for (let i = 0; i < 1500; i += 1) rows.push(`T${i};${cpfFor(30_000 + i)};Cliente ${i}`);
    const { code, stdout, stderr } = await runWith(true, csv('tty.csv', rows.join('\n')));
    assert.equal(code, 0);
    assert.match(stderr, /tty\.csv \[.*\] 100% \| 1500 rows \| 0 error\(s\)/);
    assert.match(stdout, /1500 row\(s\); 1500 contract\(s\) saved/);
  });

  test('usage errors exit 2: missing file, missing required columns', async () => {
    const missing = await run(path.join(dir, 'nope.csv'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
    const noName = await run(csv('cols.csv', 'service_id;document\n1;2\n'));
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /missing column\(s\) name/);
    const empty = await run(csv('empty.csv', ''));
    assert.equal(empty.code, 2);
    const none = await run();
    assert.equal(none.code, 2);
  });

  test('the delimiter is the one the header uses', () => {
    assert.equal(detectDelimiter('service_id;document;name'), ';');
    assert.equal(detectDelimiter('service_id,document,name'), ',');
    assert.equal(detectDelimiter('"a,b";c;d'), ';');
  });
});
