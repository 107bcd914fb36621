import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractServiceId } from '../../src/domain/observation.ts';

describe('extractServiceId: finds the id', () => {
  const cases: Array<[string, string]> = [
    // just the number
    ['123', '123'],
    [' 123 ', '123'],
    ['\n123\n', '123'],
    ['00123', '123'],
    ['#123', '123'],
    ['nº 123', '123'],
    ['12345678', '12345678'], // the whole field: any size up to 10 digits
    // labelled
    ['ID: 123 - plano 300M', '123'],
    ['id_cliente_servico=456', '456'],
    ['ID_CLIENTE_SERVICO: 456', '456'],
    ['id cliente servico 456', '456'],
    ['Id do cliente serviço: 456', '456'],
    ['id serviço 456', '456'],
    ['id: 00123', '123'],
    ['ID:123-plano', '123'],
    ['id123', '123'],
    ['Cliente 321 / contrato', '321'],
    ['Contrato: 987', '987'],
    ['contrato nº 987', '987'],
    ['nº contrato 987', '987'],
    ['Cod. 55', '55'],
    ['cód 55', '55'],
    ['Código: 55', '55'],
    ['codigo do cliente 55', '55'],
    ['c&oacute;digo: 88', '88'],
    ['ID 123 - ID 123', '123'], // the same id twice
    ['ID: 1234567890', '1234567890'],
    // HTML
    ['<p>ID 789</p>', '789'],
    ['<div><b>ID:</b>&nbsp;789</div>', '789'],
    ['<p>Plano 300M</p><p>ID&nbsp;789</p>', '789'],
    ['&lt;p&gt;ID 789&lt;/p&gt;', '789'],
    ['<p style="font-size: 12px">ID 789</p>', '789'],
    ['<style>p { margin: 10px }</style><p>789</p>', '789'],
    ['<!-- 111 --><p>789</p>', '789'],
    ['ID&#58; 789', '789'],
    ['ID&#x3A;&#160;789', '789'],
    ['<p>123</p><br/>', '123'],
    ['ID\r\n789', '789'],
    ['ID\t789', '789'],
    // labelled beats bare numbers and noise
    ['Plano 300 mega, ID 42', '42'],
    ['500MB - cliente 42', '42'],
    ['Rua das Flores 45 - ID 999', '999'],
    ['Fone (11) 98765-4321, id 7', '7'],
    ['tel 11 98765 4321 id 7', '7'],
    ['CEP 13000-000 id 8', '8'],
    ['instalado em 12/05/2024, contrato 31', '31'],
    ['vencimento dia 10, id 99', '99'],
    ['CPF 123.456.789-09 id 5', '5'],
    ['R$ 99,90 - id 5', '5'],
    ['id_cliente_servico 77; cliente 5', '77'], // the field's own name beats a weaker label
    ['ID 123 (cliente 123)', '123'],
    // one plausible bare number in other text
    ['plano 300M 4567', '4567'],
    ['4567 - 300 mega', '4567'],
    ['Cliente João, 4567', '4567'],
    ['fibra 1 giga. 4567.', '4567'],
    ['500MB\n4567', '4567'],
    ['R$ 120 4567', '4567'],
  ];
  for (const [observation, id] of cases) {
    it(`${JSON.stringify(observation)} → ${id}`, () => {
      const result = extractServiceId(observation);
      assert.equal(result.id, id, JSON.stringify(result));
    });
  }

  it('says whether a label named the id', () => {
    assert.deepEqual(extractServiceId('ID 5'), { id: '5', strength: 'labelled' });
    assert.deepEqual(extractServiceId('5'), { id: '5', strength: 'alone' });
    assert.deepEqual(extractServiceId('plano 300M 5'), { id: '5', strength: 'weak' });
  });
});

describe('extractServiceId: finds no id', () => {
  const cases: Array<[string | null | undefined, 'empty' | 'no_id']> = [
    [null, 'empty'],
    [undefined, 'empty'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['<p></p>', 'empty'],
    ['<p>&nbsp;</p>', 'empty'],
    ['\n\r\n', 'empty'],
    ['cliente sem contrato', 'no_id'],
    ['ID:', 'no_id'],
    ['0', 'no_id'],
    ['id 000', 'no_id'],
    ['12345678901', 'no_id'], // 11 digits: a CPF or a phone, never an id
    ['12345678000195', 'no_id'],
    ['Plano 300M', 'no_id'],
    ['plano 300 mega', 'no_id'],
    ['500MB', 'no_id'],
    ['1 GB', 'no_id'],
    ['plano 300', 'no_id'],
    ['velocidade: 600', 'no_id'],
    ['(11) 98765-4321', 'no_id'],
    ['+55 11 98765-4321', 'no_id'],
    ['+55 (11) 3234-5678', 'no_id'],
    ['11 98765 4321', 'no_id'],
    ['tel 32345678', 'no_id'],
    ['whatsapp: 98765432', 'no_id'],
    ['telefone do cliente 987654321', 'no_id'],
    ['cpf do cliente: 12345678909', 'no_id'],
    ['13000-000', 'no_id'],
    ['CEP 13000000', 'no_id'],
    ['12/05/2024', 'no_id'],
    ['12-05-2024', 'no_id'],
    ['12 de maio de 2024', 'no_id'],
    ['maio 2024', 'no_id'],
    ['instalado em 2024', 'no_id'],
    ['10:30', 'no_id'],
    ['visita às 10h', 'no_id'],
    ['123.456.789-09', 'no_id'],
    ['12.345.678/0001-95', 'no_id'],
    ['R$ 100', 'no_id'],
    ['R$ 99,90', 'no_id'],
    ['1.500,00', 'no_id'],
    ['100 reais', 'no_id'],
    ['50%', 'no_id'],
    ['1º andar', 'no_id'],
    ['CTO12', 'no_id'],
    ['porta 3', 'no_id'],
    ['CTO 12', 'no_id'],
    ['splitter 1x8', 'no_id'],
    ['ONU ZTEG12345678', 'no_id'],
    ['apto 302', 'no_id'],
    ['Rua A, nº 45', 'no_id'],
    ['cabo de 200 metros', 'no_id'],
    ['12345678 na rua', 'no_id'], // 8 digits inside text: a CEP or a phone, not an id
  ];
  for (const [observation, reason] of cases) {
    it(`${JSON.stringify(observation)} → ${reason}`, () => {
      assert.deepEqual(extractServiceId(observation), { id: null, reason });
    });
  }
});

describe('extractServiceId: several ids', () => {
  const cases: Array<[string, string[]]> = [
    ['contrato 456 cliente 321', ['456', '321']],
    ['ID 123 / ID 456', ['123', '456']],
    ['id_cliente_servico=1; id_cliente_servico=2', ['1', '2']],
    ['<p>ID 10</p><p>ID 20</p>', ['10', '20']],
    ['123 456', ['123', '456']],
    ['antigo 123, novo 456', ['123', '456']],
  ];
  for (const [observation, candidates] of cases) {
    it(`${JSON.stringify(observation)} → several_ids ${candidates.join(',')}`, () => {
      assert.deepEqual(extractServiceId(observation), { id: null, reason: 'several_ids', candidates });
    });
  }
});
