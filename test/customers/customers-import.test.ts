import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import iconv from 'iconv-lite';
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

  function csv(name: string, content: string | Buffer): string {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  }

  async function contractOf(serviceId: string) {
    return db
      .knex('service_contracts as s')
      .join('erp_customers as c', 'c.id', 's.erp_customer_id')
      .where('s.service_id', serviceId)
      .first('c.document', 'c.name', 'c.phone', 'c.email', 's.status', 's.address', 's.city');
  }
  const savedCount = async (prefix: string) =>
    Number((await db.knex('service_contracts').where('service_id', 'like', `${prefix}%`).count({ n: '*' }).first())!.n);

  test('a Windows-1252 file (João da Conceição, São Paulo) is stored with its accents, never with U+FFFD', async () => {
    const text = `id_cliente_servico;cpf_cnpj;nome;cidade\r\nW1;${cpfFor(70_001)};João da Conceição;São Paulo\r\n`;
    const { code, stdout } = await run(csv('cp1252.csv', iconv.encode(text, 'win1252')));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /read as Windows-1252 \(the file is not UTF-8\)/);
    assert.deepEqual(await contractOf('W1').then((c) => [c.name, c.city]), ['João da Conceição', 'São Paulo']);
  });

  test('Excel\'s "sep=;" first line is accepted', async () => {
    const { code, stdout } = await run(csv('sep.csv', `sep=;\r\nservice_id;document;name\r\nS1;${cpfFor(70_002)};Ana\r\n`));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /header on line 2/);
    assert.ok(await contractOf('S1'));
  });

  test('Situação, Endereço and CPF/CNPJ are recognised: a Cancelado contract is saved as cancelled', async () => {
    const { code, stdout } = await run(
      csv('situacao.csv', `Contrato;CPF/CNPJ;Nome;Situação;Endereço\nH1;${cpfFor(70_003)};Ana;Cancelado;Rua A, 1\nH2;${cpfFor(70_004)};Bia;Ativo;Rua B\n`),
    );
    assert.equal(code, 0, stdout);
    assert.doesNotMatch(stdout, /no status column/);
    assert.deepEqual(await contractOf('H1').then((c) => [c.status, c.address]), ['cancelled', 'Rua A, 1']);
    assert.equal((await contractOf('H2')).status, 'active');
  });

  test('a header "cpf" alone is the document', async () => {
    const { code, stdout } = await run(csv('cpf.csv', `contrato,nome,cpf\nK-ALONE,Caio,${cpfFor(70_005)}\n`));
    assert.equal(code, 0, stdout);
    assert.equal((await contractOf('K-ALONE')).document, cpfFor(70_005));
  });

  test('a file without a status column says every contract was saved as active', async () => {
    const { code, stdout } = await run(csv('nostatus.csv', `service_id;document;name\nNS1;${cpfFor(70_006)};Davi\n`));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /no status column: every contract was saved as active/);
  });

  test('a status-like column mapsync does not know refuses the file (exit 2), naming the column', async () => {
    const { code, stderr } = await run(csv('statuslike.csv', `service_id;document;name;Status do cliente PF\nSL1;${cpfFor(70_007)};Eva;Cancelado\n`));
    assert.equal(code, 2);
    assert.match(stderr, /"Status do cliente PF" on line 1 looks like the contract status but is not recognised/);
    assert.equal(await contractOf('SL1'), undefined);
  });

  test('CPF and CNPJ columns, Telefone and Celular: the filled one wins; different documents refuse the row, different phones warn', async () => {
    const rows = [
      'Contrato;Nome;CPF;CNPJ;Telefone;Celular',
      `M1;Fabio;${cpfFor(70_010)};;;(11) 99999-0001`,
      `M2;Loja;;${'11.222.333/0001-81'};(11) 3333-0002;`,
      `M3;Gil;${cpfFor(70_011)};11.222.333/0001-81;;`,
      `M4;Hugo;${cpfFor(70_012)};;(11) 3333-0004;(11) 99999-0004`,
    ];
    const { code, stdout } = await run(csv('merge.csv', rows.join('\n')));
    assert.equal(code, 1, stdout);
    assert.deepEqual(await contractOf('M1').then((c) => [c.document, c.phone]), [cpfFor(70_010), '(11) 99999-0001']);
    assert.deepEqual(await contractOf('M2').then((c) => [c.document, c.phone]), ['11222333000181', '(11) 3333-0002']);
    assert.equal(await contractOf('M3'), undefined);
    assert.match(stdout, /line 4 \(service M3\): document "CPF" and "CNPJ" hold different documents/);
    assert.equal((await contractOf('M4')).phone, '(11) 3333-0004');
    assert.match(stdout, /1 warning\(s\) \(saved\):\n  line 5 \(service M4\): phone "Telefone" and "Celular" differ; kept the value of "Telefone"/);
  });

  for (const [label, broken, resumes] of [
    ['an unquoted stray quote (Jose "Zeca" Teste) is part of the name: 3000 rows before it and the rows after are all saved', 'Jose "Zeca" Teste', true],
    ['a quote never closed: the 3000 rows before it are saved, the line is reported, reading resumes after it', '"Jose Zeca Teste', false],
  ] as const) {
    test(label, async () => {
      const prefix = broken.startsWith('"') ? 'Q' : 'Z';
      const rows = ['service_id;document;name;status'];
      for (let i = 0; i < 3000; i += 1) rows.push(`${prefix}${i};${cpfFor(80_000 + i)};Cliente ${i};ativo`);
      rows.push(`${prefix}X;${cpfFor(79_000)};${broken};ativo`);
      for (let i = 0; i < 5; i += 1) rows.push(`${prefix}A${i};${cpfFor(79_100 + i)};Depois ${i};ativo`);
      const { code, stdout } = await run(csv(`${prefix}-quote.csv`, rows.join('\r\n') + '\r\n'));
      const savedRows = resumes ? 3006 : 3005;
      assert.equal(await savedCount(prefix), savedRows, stdout);
      assert.match(stdout, new RegExp(`3006 row\\(s\\); ${savedRows} contract\\(s\\) saved .*; ${3006 - savedRows} row\\(s\\) rejected; 0 row\\(s\\) skipped`));
      if (resumes) {
        assert.equal(code, 0, stdout);
        assert.equal((await contractOf(`${prefix}X`)).name, 'Jose "Zeca" Teste');
      } else {
        assert.equal(code, 1, stdout);
        assert.match(stdout, /line 3002: a quote \(\"\) opens a value here and is never closed/);
        assert.match(stdout, /1 broken line\(s\) could not be read as CSV \(rejected above\); reading went on with the next line each time/);
      }
    });
  }

  test('a line break inside a quoted value does not shift later line numbers', async () => {
    const rows = [
      'service_id;document;name;address',
      `L1;${cpfFor(70_020)};Ana;"Rua A\r\nBloco 2\r\nApto 3"`,
      `L2;123;Bad;Rua B`,
      `L3;;Empty;Rua C`,
    ];
    const { code, stdout } = await run(csv('crlf.csv', rows.join('\r\n')));
    assert.equal(code, 1, stdout);
    assert.match(stdout, /line 5 \(service L2\): document is not a CPF or CNPJ/);
    assert.match(stdout, /line 6 \(service L3\): document is required/);
    assert.equal((await contractOf('L1')).address, 'Rua A\nBloco 2\nApto 3');
  });

  test('an e-mail such as maria-at-example refuses that row only', async () => {
    const rows = ['service_id;document;name;email', `E1;${cpfFor(70_030)};Maria;maria-at-example`, `E2;${cpfFor(70_031)};Joana;joana@example.com`];
    const { code, stdout } = await run(csv('email.csv', rows.join('\n')));
    assert.equal(code, 1, stdout);
    assert.match(stdout, /line 2 \(service E1\): email is not an e-mail address \("maria-at-example"\)/);
    assert.equal(await contractOf('E1'), undefined);
    assert.equal((await contractOf('E2')).email, 'joana@example.com');
  });

  test('the JSON result adds up and lists skipped rows, columns not read and the assumed status', async () => {
    const rows = ['service_id;document;name;Plano;Nome Fantasia;;', `J1;${cpfFor(70_040)};Rui;100M;;;`, ';;;;;;', `J2;1,23457E+13;Sara;;;;`, `J1;${cpfFor(70_040)};Rui;;;;`];
    const { stdout } = await run(csv('json.csv', rows.join('\n')), '--json');
    const result = JSON.parse(stdout);
    assert.equal(result.rows, 4);
    assert.equal(result.rows, result.saved + result.rejectedRows + result.skippedRows);
    assert.deepEqual([result.saved, result.rejectedRows, result.skippedRows, result.skipped], [1, 2, 1, { 'empty row': 1 }]);
    assert.deepEqual(result.ignoredColumns, ['Plano']);
    assert.deepEqual(result.unrecognisedColumns, [{ header: 'Nome Fantasia', looksLike: 'name' }]);
    assert.equal(result.assumedStatus, 'active');
    assert.deepEqual(result.errors.map((e: { line: number; field: string }) => [e.line, e.field]), [[4, 'document'], [5, 'serviceId']]);
    assert.match(result.errors[0].message, /scientific notation \(1,23457E\+13\)/);
  });

  test("a name with a line break in a row padded with Excel's empty columns is one row", async () => {
    const file = csv('padded-break.csv', `service_id;nome;cpf;situacao;;\n90063;"Linha\nquebrada";${cpfFor(70_060)};ativo;;\n90064;Rita;${cpfFor(70_061)};ativo;;\n`);
    const { code, stdout } = await run(file, '--json');
    assert.equal(code, 0, stdout);
    assert.equal(JSON.parse(stdout).saved, 2);
    assert.equal((await contractOf('90063')).name, 'Linha\nquebrada');
  });

  test('a file that mixes UTF-8 and Windows-1252 is refused naming the line and the encoding to use', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`service_id;document;name\nU1;${cpfFor(70_050)};Conceição\n`, 'utf8'),
      iconv.encode(`U2;${cpfFor(70_051)};João\n`, 'win1252'),
    ]);
    const { code, stderr } = await run(csv('mixed.csv', bytes));
    assert.equal(code, 2);
    assert.match(stderr, /line 3 is not UTF-8 but line 2 is: the file mixes two encodings; save it again as UTF-8/);
    const json = await run(csv('mixed.csv', bytes), '--json');
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout), { refused: true, message: JSON.parse(json.stdout).message });
    assert.match(JSON.parse(json.stdout).message, /the file mixes two encodings/);
    assert.equal(await contractOf('U1'), undefined);
  });

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
