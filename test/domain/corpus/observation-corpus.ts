/**
 * Observation fields as technicians and attendants type them on a mapping platform, each
 * with the service id mapsync must read from it (or none). To extend: add a line.
 *
 * - `id`: the id and how it was found: `labelled` (a label names it), `alone` (the whole
 *   field), `weak` (the only plausible number in a longer note);
 * - `none`: no id at all;
 * - `several`: more than one id of the same strength, in order of appearance.
 */
export type ObservationExpectation =
  | { id: string; strength: 'labelled' | 'alone' | 'weak' }
  | { none: true }
  | { several: string[] };

export interface ObservationCase {
  text: string;
  expect: ObservationExpectation;
  /** What the case is about, when the text does not say it. */
  note?: string;
}

const labelled = (id: string): ObservationExpectation => ({ id, strength: 'labelled' });
const alone = (id: string): ObservationExpectation => ({ id, strength: 'alone' });
const weak = (id: string): ObservationExpectation => ({ id, strength: 'weak' });
const none: ObservationExpectation = { none: true };
const several = (...ids: string[]): ObservationExpectation => ({ several: ids });

export const OBSERVATION_CORPUS: ObservationCase[] = [
  // --- The example, and the class it stands for: measurements and equipment ---
  { text: '<pre>SPLITTER: 1x8 / 1x16\nCABO: 4 12fo\nFIBRA: \nPOTÊNCIA: 25,69 dbm</pre>', expect: none, note: 'issue 11 §3' },
  { text: 'SPLITTER: 1x8 / 1x16\r\nCABO: 4 12fo\r\nFIBRA:\r\nPOTENCIA: -25,69 dbm', expect: none },
  { text: 'splitter 1x8 porta 3', expect: none },
  { text: 'SPLITTER 1 X 16', expect: none },
  { text: 'spliter 1/8 cx 12', expect: none, note: 'typo in splitter' },
  { text: 'cabo: 4', expect: none },
  { text: 'CABO 12 FO', expect: none },
  { text: 'cabo 6fo drop 80m', expect: none },
  { text: 'fibra 2', expect: none },
  { text: 'Fibra: 3 (azul)', expect: none },
  { text: 'potencia -21 dbm', expect: none },
  { text: 'POT: -19,5dBm', expect: none },
  { text: 'sinal -23', expect: none },
  { text: 'rx -22.4 tx 2.1', expect: none },
  { text: 'atenuação 3 dB', expect: none },
  { text: 'perda 2 db no conector', expect: none },
  { text: '-24 dbm', expect: none },
  { text: 'medido -27', expect: none, note: 'a negative number is a measurement' },
  { text: 'drop de 120 m', expect: none },
  { text: 'distancia 1,2 km da cto', expect: none },
  { text: '150 metros de cabo', expect: none },
  { text: 'porta 5', expect: none },
  { text: 'PORTA: 7', expect: none },
  { text: 'portas 3 e 4', expect: none },
  { text: 'porta 3, 4', expect: none },
  { text: 'CTO 15 porta 2', expect: none },
  { text: 'CTO-15 P2', expect: none },
  { text: 'caixa 22', expect: none },
  { text: 'cx 3 sp 2', expect: none },
  { text: 'ONU serial 48575443', expect: none },
  { text: 'olt 1 slot 2 pon 7', expect: none },
  { text: 'vlan 100', expect: none },
  { text: 'plano 300 mbps', expect: none },
  { text: '500 Mega', expect: none },
  { text: '100%', expect: none },
  { text: 'ocupação 80 %', expect: none },
  { text: 'poste 45', expect: none },
  { text: 'usados 2 cabos e 3 conectores', expect: none },
  { text: '2 CTOs no poste', expect: none },
  // --- Secrets, logins and contacts ---
  { text: 'senha 1234', expect: none },
  { text: 'Senha wifi: 87654321', expect: none },
  { text: 'senha do wifi 2020', expect: none },
  { text: 'SSID: casa 5g', expect: none },
  { text: 'login pppoe: joao123', expect: none },
  { text: 'usuario 4432', expect: none },
  { text: 'telefone 3232-4455', expect: none },
  { text: 'Tel.: (19) 3232-4455', expect: none },
  { text: 'cel 19 99876 5432', expect: none },
  { text: 'whats 19998765432', expect: none },
  { text: 'contato 3232 4455', expect: none },
  { text: 'ligar antes 98765-4321', expect: none },
  { text: 'CEP 13045-120', expect: none },
  { text: 'cep: 13045120', expect: none },
  // --- Dates, times, years, money, addresses ---
  { text: 'instalado 12/03/2025', expect: none },
  { text: 'instalado dia 12', expect: none },
  { text: 'instalação em 2024', expect: none },
  { text: 'ativado em março de 2025', expect: none },
  { text: 'visita 14h', expect: none },
  { text: 'visita as 14:30', expect: none },
  { text: 'venc. 10', expect: none },
  { text: 'R$ 89,90', expect: none },
  { text: 'rua 7 de setembro, 145', expect: none },
  { text: 'Av. Brasil nº 1200 apto 33', expect: none },
  { text: 'casa 2 fundos', expect: none },
  { text: 'OS 55321', expect: none },
  { text: 'ordem de serviço 4471', expect: none },
  { text: 'protocolo 2025031245', expect: none },
  { text: 'cliente desde 2019', expect: none },
  // --- Labelled ids, as people write the label ---
  { text: 'ID: 4521', expect: labelled('4521') },
  { text: 'id 4521', expect: labelled('4521') },
  { text: 'ID4521', expect: labelled('4521') },
  { text: 'id_cliente_servico: 4521', expect: labelled('4521'), note: 'what mapsync writes back' },
  { text: 'ID_CLIENTE_SERVICO=4521', expect: labelled('4521') },
  { text: 'idclienteservico 4521', expect: labelled('4521') },
  { text: 'id cliente servico: 4521', expect: labelled('4521') },
  { text: 'Id do cliente serviço 4521', expect: labelled('4521') },
  { text: 'id serv 4521', expect: labelled('4521') },
  { text: 'ID SERVIÇO: 4521', expect: labelled('4521') },
  { text: 'serviço 4521', expect: labelled('4521') },
  { text: 'servico: 4521', expect: labelled('4521') },
  { text: 'contrato 4521', expect: labelled('4521') },
  { text: 'CONTRATO Nº 4521', expect: labelled('4521') },
  { text: 'contarto 4521', expect: labelled('4521'), note: 'typo' },
  { text: 'nº do contrato: 4521', expect: labelled('4521') },
  { text: 'cod 4521', expect: labelled('4521') },
  { text: 'Cód.: 4521', expect: labelled('4521') },
  { text: 'codigo do cliente 4521', expect: labelled('4521') },
  { text: 'cliente 4521', expect: labelled('4521') },
  { text: 'idcliente 4521', expect: labelled('4521') },
  { text: 'Serv.: 4521', expect: labelled('4521') },
  { text: 'cod. do serv. 4521', expect: labelled('4521') },
  { text: 'IDSERVICO=4521', expect: labelled('4521') },
  { text: 'ID:\n4521', expect: labelled('4521'), note: 'label and value on two lines' },
  { text: '<p><strong>ID:</strong> 4521</p>', expect: labelled('4521') },
  { text: '<div>Contrato&nbsp;4521</div><div>Plano 300MB</div>', expect: labelled('4521') },
  { text: 'ID: 004521', expect: labelled('4521') },
  // --- Labelled ids among the noise ---
  { text: '<pre>SPLITTER: 1x8\nCABO: 4 12fo\nID: 4521\nPOTÊNCIA: -25,69 dbm</pre>', expect: labelled('4521') },
  { text: 'CTO 15 porta 2 - id 4521', expect: labelled('4521') },
  { text: 'ID 4521 CTO 15 porta 2', expect: labelled('4521') },
  { text: 'contrato 4521 porta 3', expect: labelled('4521') },
  { text: 'id 4521 fibra 2', expect: labelled('4521') },
  { text: 'senha 1234 / contrato 4521', expect: labelled('4521') },
  { text: 'tel (19) 99876-5432 id 4521', expect: labelled('4521') },
  { text: 'plano 600 mega id 4521 vencimento dia 10', expect: labelled('4521') },
  { text: 'instalado 12/03/2025 - cod 4521', expect: labelled('4521') },
  { text: 'ID 4521 (antigo 3310)', expect: labelled('4521'), note: 'a label beats a bare number' },
  { text: 'id_cliente_servico 4521 cliente 12', expect: labelled('4521'), note: "the field's own name beats a weaker label" },
  { text: 'Rua das Flores, 145 - ID 4521', expect: labelled('4521') },
  { text: 'ID 4521 senha 8899', expect: labelled('4521') },
  { text: 'pppoe joao / senha 4455 / contrato 4521', expect: labelled('4521') },
  { text: 'CONTRATO 4521 PLANO 300MB CTO 12 PORTA 4', expect: labelled('4521') },
  { text: 'id: 4521; potência -22,3 dBm', expect: labelled('4521') },
  { text: 'Cliente: 4521 | Tel: 19 3232-4455', expect: labelled('4521') },
  { text: '&lt;p&gt;contrato 4521&lt;/p&gt;', expect: labelled('4521'), note: 'HTML sent escaped' },
  { text: 'COD CLIENTE: 4521\nCTO: 15\nPORTA: 3\nSINAL: -21,4', expect: labelled('4521') },
  // --- The whole field ---
  { text: '4521', expect: alone('4521') },
  { text: ' 4521\n', expect: alone('4521') },
  { text: '<p>4521</p>', expect: alone('4521') },
  { text: '#4521', expect: alone('4521') },
  // --- Weak guesses: one plausible number in a longer note ---
  { text: 'Maria - 4521', expect: weak('4521') },
  { text: 'cliente novo, 4521, plano 300M', expect: weak('4521'), note: "'cliente novo,' is not a label of 4521" },
  { text: 'plano 300M 4521', expect: weak('4521') },
  { text: 'fibra 1 giga. 4521.', expect: weak('4521') },
  { text: 'instalado pelo Zé 4521', expect: weak('4521') },
  // --- Several ids ---
  { text: 'contrato 4521 / contrato 4522', expect: several('4521', '4522') },
  { text: 'IDs: 4521, 4522', expect: several('4521', '4522') },
  { text: 'id 4521 e 4522', expect: several('4521', '4522') },
  { text: 'antigo 3310 novo 4521', expect: several('3310', '4521') },
  { text: 'contrato 4521 cancelado, novo contrato 4600', expect: several('4521', '4600') },
  // --- Empty and nothing ---
  { text: 'Rua das Flores, 145', expect: none },
  { text: 'inst. 05/06/24 tec. Carlos', expect: none },
  { text: 'Obs: trocar conector', expect: none },
  { text: 'ATIVO', expect: none },
  { text: 'CTO 1:8', expect: none },
  { text: 'tel 32324455', expect: none },

  { text: '', expect: none },
  { text: '<p><br></p>', expect: none },
  { text: 'cliente sem contrato', expect: none },
  { text: 'ID: ', expect: none },
  { text: '12345678909', expect: none, note: 'a CPF, not an id' },
  { text: 'cpf 123.456.789-09', expect: none },
];
