/**
 * The pieces of the CSV import on their own, as tables: which field a header feeds, how a
 * file's bytes are decoded, and where records start and break.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { planColumns } from '../../src/customers/csv-columns.ts';
import { readCsvRecords, splitLines, excelSeparatorLine, MAX_RECORD_LINES, type CsvItem } from '../../src/customers/csv-records.ts';
import { CsvEncodingError, decodeCsv } from '../../src/customers/csv-text.ts';

describe('headers as people write them', () => {
  const cases: [string, string | null][] = [
    ['cpf', 'document'], ['CPF', 'document'], ['\uFEFFcpf', 'document'], [' Cpf. ', 'document'], ['CPF/CNPJ', 'document'],
    ['CNPJ/CPF', 'document'], ['cnpj_cpf', 'document'], ['Documento', 'document'],
    ['Situação', 'status'], ['SITUACAO', 'status'], ['Situação do Contrato', 'status'], ['status_servico', 'status'],
    ['Endereço', 'address'], ['Logradouro', 'address'], ['endereco_instalacao', 'address'], ['Número', 'addressNumber'], ['Bairro', 'district'],
    ['E-mail', 'email'], ['email_principal', 'email'], ['Telefone', 'phone'], ['Celular', 'phone'], ['WhatsApp', 'phone'],
    ['Razão Social', 'name'], ['Nome/Razão Social', 'name'], ['nome_razaosocial', 'name'],
    ['id_cliente_servico', 'serviceId'], ['Contrato', 'serviceId'], ['Cód. Conexão', 'serviceId'], ['Código do Contrato', 'serviceId'],
    ['CEP', 'zipCode'], ['Município', 'city'], ['UF', 'state'], ['Latitude', 'lat'], ['Longitude', 'lon'],
    ['Plano', null], ['Nome Fantasia', null], ['Status Internet', null],
  ];
  for (const [header, field] of cases) {
    test(`${JSON.stringify(header)} → ${field}`, () => {
      assert.equal(planColumns([header]).columns[0]!.field, field);
    });
  }

  test('columns not read are listed: look-alikes apart from the rest; empty headers are neither', () => {
    const plan = planColumns(['Contrato', 'Nome', 'CPF', 'Plano', 'Status Internet', 'CPF do responsável', '', ' ']);
    assert.deepEqual(plan.ignored, ['Plano']);
    assert.deepEqual(plan.unrecognised, [
      { header: 'Status Internet', looksLike: 'status' },
      { header: 'CPF do responsável', looksLike: 'document' },
    ]);
    assert.deepEqual(plan.missing, []);
    assert.deepEqual(planColumns(['cpf', 'nome']).missing, ['serviceId']);
  });
});

describe('decoding', () => {
  const text = 'nome;cidade\r\nJoão da Conceição;São Paulo\r\n';
  const cases: [string, Buffer, string | RegExp, string?][] = [
    ['UTF-8', Buffer.from(text, 'utf8'), text, 'utf-8'],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]), text, 'utf-8'],
    ['Windows-1252', iconv.encode(text, 'win1252'), text, 'windows-1252'],
    ['Windows-1252 with € and “quotes”', iconv.encode('a;€ “x”\n', 'win1252'), 'a;€ “x”\n', 'windows-1252'],
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf-16le')]), text, 'utf-16le'],
    ['UTF-16LE without BOM', iconv.encode(text, 'utf-16le'), text, 'utf-16le'],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(text, 'utf-16be')]), text, 'utf-16be'],
    ['UTF-8 then Windows-1252', Buffer.concat([Buffer.from('a\nç\n', 'utf8'), iconv.encode('b\nç\n', 'win1252')]), /^line 4 is not UTF-8 but line 2 is/],
    ['a byte neither encoding has', Buffer.from([0x61, 0x0a, 0x62, 0x81, 0x0a]), /^line 2 holds the byte 0x81, which is neither UTF-8 nor Windows-1252/],
    ['a UTF-8 BOM on Windows-1252', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), iconv.encode('a\nç\n', 'win1252')]), /^line 2 is not UTF-8, although the file starts with a UTF-8 mark/],
  ];
  for (const [label, bytes, want, encoding] of cases) {
    test(label, () => {
      if (want instanceof RegExp) {
        assert.throws(() => decodeCsv(bytes), (error: unknown) => error instanceof CsvEncodingError && want.test(error.message));
        return;
      }
      const decoded = decodeCsv(bytes);
      assert.equal(decoded.text, want);
      assert.equal(decoded.encoding, encoding);
      assert.ok(!decoded.text.includes('\uFFFD'));
    });
  }
});

describe('records and broken lines', () => {
  const read = (text: string, columns = 3): (string | number)[][] =>
    [...readCsvRecords(splitLines(text), ';', 0, columns)].map((item: CsvItem) =>
      item.kind === 'record' ? [item.line, ...item.fields] : [item.line, 'BROKEN'],
    );
  const cases: [string, string, (string | number)[][]][] = [
    ['a quote inside an unquoted value is text', 'a;Jose "Zeca" Teste;c\n', [[1, 'a', 'Jose "Zeca" Teste', 'c']]],
    ['doubled quotes in a quoted value', 'a;"Jose ""Zeca"" Teste";c\n', [[1, 'a', 'Jose "Zeca" Teste', 'c']]],
    ['a line break in a middle value: the record starts on line 1, the next on line 3', '1;"x\r\ny";z\r\n2;b;c\r\n', [[1, '1', 'x\ny', 'z'], [3, '2', 'b', 'c']]],
    ['a line break in the last value', '1;b;"obs\nmais"\n2;b;c\n', [[1, '1', 'b', 'obs\nmais'], [3, '2', 'b', 'c']]],
    [
      "a line break in a middle value of a row padded with Excel's empty columns",
      '1;"x\ny";z;;\n2;b;c;;\n',
      [[1, '1', 'x\ny', 'z', '', ''], [3, '2', 'b', 'c', '', '']],
    ],
    ['a quote never closed, the rest of the row after it: broken, reading goes on', '1;"b;c\n2;b;c\n3;"x";c\n', [[1, 'BROKEN'], [2, '2', 'b', 'c'], [3, '3', 'x', 'c']]],
    ['a quote never closed in the last value that would swallow the next row', '1;b;"c\n2;b;c\n', [[1, 'BROKEN'], [2, '2', 'b', 'c']]],
    ['a quote never closed at the end of the file', '1;b;c\n2;b;"c\n', [[1, '1', 'b', 'c'], [2, 'BROKEN']]],
    ['text after a closing quote', '1;"b"x;c\n2;b;c\n', [[1, 'BROKEN'], [2, '2', 'b', 'c']]],
    ['spaces around a quoted value', '1; "b;c" ;d\n', [[1, '1', 'b;c', 'd']]],
    ['lone CR line ends', '1;b;c\r2;b;c\r', [[1, '1', 'b', 'c'], [2, '2', 'b', 'c']]],
    ['blank lines in the middle are empty records; at the end they are not lines', '1;b;c\n\n2;b;c\n\n\n', [[1, '1', 'b', 'c'], [2], [3, '2', 'b', 'c']]],
  ];
  for (const [label, text, want] of cases) {
    test(label, () => assert.deepEqual(read(text), want));
  }

  test(`a quoted value open for more than ${MAX_RECORD_LINES} lines breaks its first line only`, () => {
    const lines = ['1;b;"open', ...Array.from({ length: MAX_RECORD_LINES + 5 }, (_, i) => `more ${i}`)];
    const items = read(lines.join('\n'), Number.POSITIVE_INFINITY);
    assert.deepEqual(items[0], [1, 'BROKEN']);
    assert.deepEqual(items[1], [2, 'more 0']);
  });

  test("Excel's sep= line", () => {
    assert.equal(excelSeparatorLine('sep=;'), ';');
    assert.equal(excelSeparatorLine('"sep=,"'), ',');
    assert.equal(excelSeparatorLine('\uFEFFsep=|;;;'), '|');
    assert.equal(excelSeparatorLine('separador;nome'), null);
  });
});
