import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideLink, NO_DOCUMENT_SUFFIX, personTypeOf, settleClaims, type Claim, type LinkInput, type LinkReasonCode, type LinkStatus } from '../../src/domain/customer-linking.ts';
import { documentTextOfJsonNumber } from '../../src/domain/documents.ts';

// Valid documents (check digits verified in documents.test.ts).
const ANA = '12345678909'; // CPF
const BRUNO = '52998224725'; // CPF
const ACME = '12345678000195'; // numeric CNPJ
const NOVA = '12ABC34501DE35'; // alphanumeric CNPJ
const CARLA = '01234567890'; // CPF with a leading zero

interface Contract {
  serviceId: string;
  customerDocument: string;
  active: boolean;
}

/** A tiny ERP: the look-ups decideLink is given, with a call log. */
function erp(contracts: Contract[]) {
  const calls = { byId: [] as string[], byDocument: [] as string[] };
  const lookups: Pick<LinkInput, 'contractById' | 'contractsByDocument'> = {
    contractById: (serviceId) => {
      calls.byId.push(serviceId);
      return contracts.find((contract) => contract.serviceId === serviceId) ?? null;
    },
    contractsByDocument: (document) => {
      calls.byDocument.push(document);
      return contracts
        .filter((contract) => contract.customerDocument === document)
        .map(({ serviceId, active }) => ({ serviceId, active }));
    },
  };
  return { lookups, calls };
}

const CONTRACTS: Contract[] = [
  { serviceId: '100', customerDocument: ANA, active: true },
  { serviceId: '200', customerDocument: BRUNO, active: true },
  { serviceId: '201', customerDocument: BRUNO, active: true },
  { serviceId: '202', customerDocument: BRUNO, active: false },
  { serviceId: '300', customerDocument: ACME, active: true },
  { serviceId: '301', customerDocument: ACME, active: false },
  { serviceId: '400', customerDocument: NOVA, active: true },
  { serviceId: '500', customerDocument: CARLA, active: false },
  { serviceId: '501', customerDocument: CARLA, active: false },
  { serviceId: '600', customerDocument: '98765432100', active: false },
  { serviceId: '700', customerDocument: '00041837207', active: true }, // CPF 000.418.372-07
  { serviceId: '800', customerDocument: '00123456797', active: true }, // a CPF that a JSON number reads as a CNPJ too…
  { serviceId: '801', customerDocument: '00000123456797', active: true }, // …and that CNPJ is in the ERP as well
];
const LEO_AS_NUMBER = documentTextOfJsonNumber(41837207);

interface Case {
  name: string;
  observation: string | null;
  rawDocument: string | null;
  status: LinkStatus;
  serviceId: string | null;
  reasonCode: LinkReasonCode;
  candidates?: string[];
}

const CASES: Case[] = [
  // rule 1: the observation id exists and the document agrees
  { name: 'id and CPF agree', observation: 'ID: 100 - plano 300M', rawDocument: '123.456.789-09', status: 'linked', serviceId: '100', reasonCode: 'id_document_agrees' },
  { name: 'id and numeric CNPJ agree', observation: '300', rawDocument: '12.345.678/0001-95', status: 'linked', serviceId: '300', reasonCode: 'id_document_agrees' },
  { name: 'id and lower-case alphanumeric CNPJ agree', observation: '<p>ID 400</p>', rawDocument: '12.abc.345/01de-35', status: 'linked', serviceId: '400', reasonCode: 'id_document_agrees' },
  { name: 'id agrees with a CPF that lost its leading zero', observation: 'contrato 500', rawDocument: '1234567890', status: 'linked', serviceId: '500', reasonCode: 'id_inactive_contract_document_agrees' },
  { name: 'id of a customer with several contracts', observation: 'id 201', rawDocument: '529.982.247-25', status: 'linked', serviceId: '201', reasonCode: 'id_document_agrees' },
  { name: 'id of an inactive contract, document agrees', observation: 'id 301', rawDocument: '12345678000195', status: 'linked', serviceId: '301', reasonCode: 'id_inactive_contract_document_agrees' },
  // rule 2: they disagree
  { name: 'id of somebody else', observation: 'ID 100', rawDocument: '529.982.247-25', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_differs', candidates: ['100'] },
  { name: 'id of somebody else whose document is unknown to the ERP', observation: 'ID 100', rawDocument: '111.444.777-35', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_differs', candidates: ['100'] },
  { name: 'id exists, document missing', observation: 'ID 100', rawDocument: null, status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_missing', candidates: ['100'] },
  { name: 'id exists, document blank', observation: 'ID 100', rawDocument: '  ', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_missing', candidates: ['100'] },
  { name: 'id exists, document has bad check digits', observation: 'ID 100', rawDocument: '123.456.789-00', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_invalid', candidates: ['100'] },
  { name: 'id exists, document is garbage', observation: 'ID 100', rawDocument: 'não sei', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_invalid', candidates: ['100'] },
  { name: 'id exists, document all equal digits', observation: 'ID 100', rawDocument: '111.111.111-11', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_invalid', candidates: ['100'] },
  // rule 3: no id, one active contract for the document
  { name: 'empty observation, one active contract', observation: null, rawDocument: '123.456.789-09', status: 'linked_by_document', serviceId: '100', reasonCode: 'no_observation_single_active_contract' },
  { name: 'html-only observation, one active contract', observation: '<p>&nbsp;</p>', rawDocument: '12345678909', status: 'linked_by_document', serviceId: '100', reasonCode: 'no_observation_single_active_contract' },
  { name: 'observation without id, one active contract', observation: 'plano 300M', rawDocument: '12345678909', status: 'linked_by_document', serviceId: '100', reasonCode: 'no_id_single_active_contract' },
  { name: 'one active and one inactive contract', observation: '', rawDocument: '12.345.678/0001-95', status: 'linked_by_document', serviceId: '300', reasonCode: 'no_observation_single_active_contract' },
  { name: 'alphanumeric CNPJ, one active contract', observation: null, rawDocument: '12abc34501de35', status: 'linked_by_document', serviceId: '400', reasonCode: 'no_observation_single_active_contract' },
  { name: 'unknown id falls back to the document', observation: 'ID 999', rawDocument: '123.456.789-09', status: 'linked_by_document', serviceId: '100', reasonCode: 'unknown_id_single_active_contract' },
  { name: 'several ids, none agreeing, fall back to the document', observation: 'ID 998 / ID 999', rawDocument: '123.456.789-09', status: 'linked_by_document', serviceId: '100', reasonCode: 'several_ids_single_active_contract' },
  // several ids where exactly one belongs to this document: rule 1 for that one
  { name: 'several ids, exactly one agrees', observation: 'ID 100 / ID 200', rawDocument: '123.456.789-09', status: 'linked', serviceId: '100', reasonCode: 'one_of_several_ids_document_agrees' },
  { name: 'several ids of the same customer, both agree', observation: 'ID 200 / ID 201', rawDocument: '529.982.247-25', status: 'ambiguous', serviceId: null, reasonCode: 'several_ids_several_active_contracts', candidates: ['200', '201'] },
  // rule 4: several active contracts
  { name: 'no id, two active contracts', observation: null, rawDocument: '529.982.247-25', status: 'ambiguous', serviceId: null, reasonCode: 'no_observation_several_active_contracts', candidates: ['200', '201'] },
  { name: 'unknown id, two active contracts', observation: 'id 999', rawDocument: '52998224725', status: 'ambiguous', serviceId: null, reasonCode: 'unknown_id_several_active_contracts', candidates: ['200', '201'] },
  // rule 6: an unlabelled number guessed out of a note never blocks a document match…
  { name: 'weak guess of somebody else, document has one contract', observation: 'instalado pelo Zé 100', rawDocument: '12.345.678/0001-95', status: 'linked_by_document', serviceId: '300', reasonCode: 'weak_id_ignored_single_active_contract' },
  { name: 'weak guess of somebody else, document has several contracts', observation: 'Maria - 100', rawDocument: '529.982.247-25', status: 'ambiguous', serviceId: null, reasonCode: 'weak_id_ignored_several_active_contracts', candidates: ['200', '201'] },
  { name: 'weak guess of somebody else, document unknown', observation: 'Maria - 100', rawDocument: '111.444.777-35', status: 'unmatched', serviceId: null, reasonCode: 'weak_id_ignored_document_not_found' },
  { name: 'weak guess that agrees with the document', observation: 'plano 300M 201', rawDocument: '529.982.247-25', status: 'linked', serviceId: '201', reasonCode: 'id_document_agrees' },
  { name: 'weak guess, no document to weigh it against', observation: 'plano 300M 100', rawDocument: null, status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_missing', candidates: ['100'] },
  // … but a labelled id, or an id that is the whole field, does
  { name: 'labelled id of somebody else', observation: 'contrato 100', rawDocument: '12.345.678/0001-95', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_differs', candidates: ['100'] },
  { name: 'whole-field id of somebody else', observation: '100', rawDocument: '12.345.678/0001-95', status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_differs', candidates: ['100'] },
  { name: 'measurements are no id: the document decides', observation: '<pre>SPLITTER: 1x8 / 1x16\nCABO: 4 12fo\nFIBRA: \nPOTÊNCIA: 25,69 dbm</pre>', rawDocument: '12345678909', status: 'linked_by_document', serviceId: '100', reasonCode: 'no_id_single_active_contract' },
  // a document sent as a JSON number: every lost zero restored, the ERP tells CPF from CNPJ
  { name: 'JSON number 41837207 is CPF 000.418.372-07', observation: null, rawDocument: LEO_AS_NUMBER, status: 'linked_by_document', serviceId: '700', reasonCode: 'no_observation_single_active_contract' },
  { name: 'JSON number with the id in the observation', observation: 'ID 700', rawDocument: LEO_AS_NUMBER, status: 'linked', serviceId: '700', reasonCode: 'id_document_agrees' },
  { name: 'JSON number of a CNPJ', observation: null, rawDocument: documentTextOfJsonNumber(12345678000195), status: 'linked_by_document', serviceId: '300', reasonCode: 'no_observation_single_active_contract' },
  { name: 'JSON number whose both readings are in the ERP', observation: null, rawDocument: documentTextOfJsonNumber(123456797), status: 'unmatched', serviceId: null, reasonCode: 'no_observation_document_invalid' },
  { name: 'JSON number whose both readings are in the ERP, with an id', observation: 'ID 800', rawDocument: documentTextOfJsonNumber(123456797), status: 'document_mismatch', serviceId: null, reasonCode: 'id_document_invalid', candidates: ['800'] },
  { name: 'JSON number the ERP does not know', observation: null, rawDocument: documentTextOfJsonNumber(191), status: 'unmatched', serviceId: null, reasonCode: 'no_observation_document_invalid' },
  // rule 5: nothing
  { name: 'nothing at all', observation: null, rawDocument: null, status: 'unmatched', serviceId: null, reasonCode: 'no_observation_document_missing' },
  { name: 'no id, document unknown to the ERP', observation: 'plano 300M', rawDocument: '111.444.777-35', status: 'unmatched', serviceId: null, reasonCode: 'no_id_document_not_found' },
  { name: 'no id, invalid document', observation: null, rawDocument: '123.456.789-00', status: 'unmatched', serviceId: null, reasonCode: 'no_observation_document_invalid' },
  { name: 'unknown id, no document', observation: 'ID 999', rawDocument: null, status: 'unmatched', serviceId: null, reasonCode: 'unknown_id_document_missing' },
  { name: 'unknown id, garbage document', observation: 'ID 999', rawDocument: 'xx', status: 'unmatched', serviceId: null, reasonCode: 'unknown_id_document_invalid' },
  { name: 'unknown id, document unknown', observation: 'ID 999', rawDocument: '111.444.777-35', status: 'unmatched', serviceId: null, reasonCode: 'unknown_id_document_not_found' },
  { name: 'several ids, nothing else', observation: 'ID 998 / ID 999', rawDocument: null, status: 'unmatched', serviceId: null, reasonCode: 'several_ids_document_missing' },
  { name: 'document with only inactive contracts', observation: null, rawDocument: '012.345.678-90', status: 'unmatched', serviceId: null, reasonCode: 'no_observation_only_inactive_contracts', candidates: ['500', '501'] },
  { name: 'document with a single inactive contract', observation: null, rawDocument: '987.654.321-00', status: 'unmatched', serviceId: null, reasonCode: 'no_observation_only_inactive_contracts', candidates: ['600'] },
];

interface NoDocumentCase {
  name: string;
  observation: string | null;
  code: string | null;
  status: LinkStatus;
  serviceId: string | null;
  reasonCode: LinkReasonCode;
  candidates?: string[];
}

/** OZmap v2: clients carry no document, so the observation id and the integration code decide. */
const NO_DOCUMENT_CASES: NoDocumentCase[] = [
  // linked: an id names the contract
  { name: 'labelled id, no code', observation: 'ID: 100 - plano 300M', code: null, status: 'linked', serviceId: '100', reasonCode: 'id_no_document' },
  { name: 'whole-field id, blank code', observation: '201', code: '  ', status: 'linked', serviceId: '201', reasonCode: 'id_no_document' },
  { name: 'id of an inactive contract', observation: 'contrato 301', code: null, status: 'linked', serviceId: '301', reasonCode: 'id_inactive_contract_no_document' },
  { name: 'id and code agree', observation: '<p>id_cliente_servico: 300</p>', code: '300', status: 'linked', serviceId: '300', reasonCode: 'id_and_code_agree_no_document' },
  { name: 'code with leading zeros agrees', observation: 'ID 300', code: '000300', status: 'linked', serviceId: '300', reasonCode: 'id_and_code_agree_no_document' },
  { name: 'code that is not a service id is ignored', observation: 'ID 100', code: 'CLI-ANA-7', status: 'linked', serviceId: '100', reasonCode: 'id_no_document' },
  { name: 'code naming no contract is ignored', observation: 'ID 100', code: '999', status: 'linked', serviceId: '100', reasonCode: 'id_no_document' },
  { name: 'no observation, the code names the contract', observation: null, code: '400', status: 'linked', serviceId: '400', reasonCode: 'no_observation_code_no_document' },
  { name: 'observation without id, the code names the contract', observation: 'Cliente antigo, ver com suporte', code: ' 100 ', status: 'linked', serviceId: '100', reasonCode: 'no_id_code_no_document' },
  { name: 'unknown id, the code names the contract', observation: 'ID 999', code: '200', status: 'linked', serviceId: '200', reasonCode: 'unknown_id_code_no_document' },
  { name: 'weak guess the code confirms', observation: 'plano 300M 201', code: '201', status: 'linked', serviceId: '201', reasonCode: 'id_and_code_agree_no_document' },
  { name: 'weak guess of another contract, the code decides', observation: 'instalado pelo Zé 100', code: '300', status: 'linked', serviceId: '300', reasonCode: 'weak_id_ignored_code_no_document' },
  { name: 'several ids, the code names one of them', observation: 'ID 100 / ID 200', code: '200', status: 'linked', serviceId: '200', reasonCode: 'id_and_code_agree_no_document' },
  { name: 'several unknown ids, the code decides', observation: 'ID 998 / ID 999', code: '100', status: 'linked', serviceId: '100', reasonCode: 'several_ids_code_no_document' },
  // document_mismatch: the observation and the code name two people
  { name: 'id and code of two ERP customers', observation: 'ID 100', code: '300', status: 'document_mismatch', serviceId: null, reasonCode: 'id_code_differ_no_document', candidates: ['100', '300'] },
  // ambiguous: the ids name more than one contract
  { name: 'id and code of one ERP customer', observation: 'ID 200', code: '201', status: 'ambiguous', serviceId: null, reasonCode: 'id_code_same_holder_no_document', candidates: ['200', '201'] },
  { name: 'several existing ids, no code', observation: 'ID 100 / ID 200', code: null, status: 'ambiguous', serviceId: null, reasonCode: 'several_ids_no_document', candidates: ['100', '200'] },
  { name: 'several ids, one existing, no code', observation: 'ID 100 / ID 999', code: null, status: 'ambiguous', serviceId: null, reasonCode: 'several_ids_no_document', candidates: ['100'] },
  { name: 'several ids and a code naming another', observation: 'ID 100 / ID 200', code: '300', status: 'ambiguous', serviceId: null, reasonCode: 'several_ids_no_document', candidates: ['100', '200', '300'] },
  // unmatched: nothing names a contract
  { name: 'nothing at all', observation: null, code: null, status: 'unmatched', serviceId: null, reasonCode: 'no_observation_no_document' },
  { name: 'observation without id, empty code', observation: 'plano 300M', code: '', status: 'unmatched', serviceId: null, reasonCode: 'no_id_no_document' },
  { name: 'unknown id, unknown code', observation: 'ID 999', code: '998', status: 'unmatched', serviceId: null, reasonCode: 'unknown_id_no_document' },
  { name: 'weak guess alone never links', observation: 'instalado pelo Zé 100', code: null, status: 'unmatched', serviceId: null, reasonCode: 'weak_id_ignored_no_document' },
  { name: 'several unknown ids', observation: 'ID 998 / ID 999', code: null, status: 'unmatched', serviceId: null, reasonCode: 'several_ids_no_document' },
  { name: 'a code too long to be an id', observation: null, code: '0000000000012345678909', status: 'unmatched', serviceId: null, reasonCode: 'no_observation_no_document' },
];

describe('decideLink on a platform whose customers carry no document', () => {
  for (const c of NO_DOCUMENT_CASES) {
    it(`${c.name} → ${c.status} (${c.reasonCode})`, () => {
      const { lookups, calls } = erp(CONTRACTS);
      const result = decideLink({ observation: c.observation, rawDocument: null, integrationCode: c.code, platformCarriesDocuments: false, ...lookups });
      assert.equal(result.status, c.status);
      assert.equal(result.serviceId, c.serviceId);
      assert.equal(result.reasonCode, c.reasonCode);
      assert.deepEqual(result.candidateServiceIds, c.candidates ?? []);
      assert.ok(result.reasonCode.endsWith(NO_DOCUMENT_SUFFIX));
      assert.match(result.reason, /carry no document/i, 'the reason says no document was available');
      assert.ok(/^[\x20-\x7e…]+$/.test(result.reason), result.reason);
      assert.equal(result.document, null);
      assert.equal(result.maskedDocument, null);
      assert.deepEqual(calls.byDocument, [], 'no document look-up');
    });
  }

  it('never names the code itself in a reason (people type documents there too)', () => {
    const { lookups } = erp(CONTRACTS);
    const result = decideLink({ observation: null, rawDocument: null, integrationCode: '529.982.247-25', platformCarriesDocuments: false, ...lookups });
    assert.equal(result.status, 'unmatched');
    assert.doesNotMatch(result.reason, /529|247/);
  });

  it('ignores a document passed by mistake, and documents still decide where the platform carries them', () => {
    const { lookups } = erp(CONTRACTS);
    const without = decideLink({ observation: null, rawDocument: '123.456.789-09', integrationCode: null, platformCarriesDocuments: false, ...lookups });
    assert.equal(without.status, 'unmatched');
    const withDocuments = decideLink({ observation: null, rawDocument: '123.456.789-09', integrationCode: '300', ...lookups });
    assert.equal(withDocuments.status, 'linked_by_document');
    assert.equal(withDocuments.serviceId, '100', 'the code is not read where documents are carried');
  });
});

describe('decideLink', () => {
  for (const c of CASES) {
    it(`${c.name} → ${c.status} (${c.reasonCode})`, () => {
      const { lookups } = erp(CONTRACTS);
      const result = decideLink({ observation: c.observation, rawDocument: c.rawDocument, ...lookups });
      assert.equal(result.status, c.status);
      assert.equal(result.serviceId, c.serviceId);
      assert.equal(result.reasonCode, c.reasonCode);
      assert.deepEqual(result.candidateServiceIds, c.candidates ?? []);
      assert.ok(result.reason.length > 10 && /^[\x20-\x7e…]+$/.test(result.reason), result.reason);
    });
  }

  it('reasons and masked documents never contain the whole document', () => {
    const documents = ['123.456.789-09', '12345678909', '529.982.247-25', '12.345.678/0001-95', '12abc34501de35', '1234567890', '123.456.789-00', '111.444.777-35', '012.345.678-90'];
    const observations = [null, 'ID 100', 'ID 999', 'ID 100 / ID 200', 'plano 300M', '300', 'id 301'];
    for (const rawDocument of documents) {
      const digits = rawDocument.replace(/[^0-9a-z]/gi, '').toUpperCase();
      for (const observation of observations) {
        const { lookups } = erp(CONTRACTS);
        const result = decideLink({ observation, rawDocument, ...lookups });
        const masked = result.maskedDocument ?? '';
        assert.ok(masked.replace(/[^0-9a-z]/gi, '').length <= 4, masked);
        // Apart from the masked document, the reason holds no run of 5 document characters.
        const rest = (masked === '' ? result.reason : result.reason.split(masked).join(' | ')).split(/[^0-9a-z]+/i);
        for (const word of rest) {
          for (let i = 0; i + 5 <= digits.length; i++) {
            assert.ok(!word.toUpperCase().includes(digits.slice(i, i + 5)), `${result.reason} leaks ${rawDocument}`);
          }
        }
        assert.ok(!result.reason.includes(rawDocument));
      }
    }
  });

  it('reports the masked document in formatted shape, or null when there is none', () => {
    const { lookups } = erp(CONTRACTS);
    assert.equal(decideLink({ observation: 'ID 100', rawDocument: '12345678909', ...lookups }).maskedDocument, '***.***.*89-09');
    assert.equal(decideLink({ observation: null, rawDocument: '12abc34501de35', ...lookups }).maskedDocument, '**.***.***/**DE-35');
    assert.equal(decideLink({ observation: null, rawDocument: 'garbage!', ...lookups }).maskedDocument, '******e!');
    assert.equal(decideLink({ observation: null, rawDocument: null, ...lookups }).maskedDocument, null);
    assert.equal(decideLink({ observation: null, rawDocument: ' ', ...lookups }).maskedDocument, null);
  });

  it('explains itself in plain English with the service ids involved', () => {
    const { lookups } = erp(CONTRACTS);
    const mismatch = decideLink({ observation: 'ID 100', rawDocument: '529.982.247-25', ...lookups });
    assert.match(mismatch.reason, /service 100/);
    assert.match(mismatch.reason, /different document/);
    assert.match(mismatch.reason, /\*\*\*\.\*\*\*\.\*47-25/);
    const ambiguous = decideLink({ observation: 'ID 999', rawDocument: '529.982.247-25', ...lookups });
    assert.match(ambiguous.reason, /999, which is not in the ERP/);
    assert.match(ambiguous.reason, /2 active contracts \(200, 201\)/);
    const invalid = decideLink({ observation: 'ID 100', rawDocument: '123.456.789-00', ...lookups });
    assert.match(invalid.reason, /wrong check digits/);
  });

  it('accepts an ERP document that is not quite in normal form', () => {
    const { lookups } = erp([{ serviceId: '7', customerDocument: '123.456.789-09', active: true }]);
    const result = decideLink({ observation: '7', rawDocument: '12345678909', ...lookups });
    assert.equal(result.status, 'linked');
  });

  it('does not ask for the document when the observation id settles it', () => {
    const { lookups, calls } = erp(CONTRACTS);
    decideLink({ observation: 'ID 100', rawDocument: '123.456.789-09', ...lookups });
    assert.deepEqual(calls, { byId: ['100'], byDocument: [] });
    decideLink({ observation: 'ID 100', rawDocument: '529.982.247-25', ...lookups });
    assert.deepEqual(calls.byDocument, []);
  });

  it('does not look anything up for an invalid document without an id', () => {
    const { lookups, calls } = erp(CONTRACTS);
    decideLink({ observation: null, rawDocument: 'xx', ...lookups });
    assert.deepEqual(calls, { byId: [], byDocument: [] });
  });
});

describe('decideLink: what it says about weak guesses and JSON numbers', () => {
  it('names the ignored number, never the document', () => {
    const { lookups } = erp(CONTRACTS);
    const result = decideLink({ observation: 'instalado pelo Zé 100', rawDocument: '12.345.678/0001-95', ...lookups });
    assert.match(result.reason, /unlabelled number 100 /);
    assert.ok(!result.reason.includes('12345678') && !result.reason.includes('123.456.789'), result.reason);
  });
  it('gives the document it decided on: the reading of a JSON number the ERP knows', () => {
    const { lookups } = erp(CONTRACTS);
    assert.equal(decideLink({ observation: null, rawDocument: LEO_AS_NUMBER, ...lookups }).document, '00041837207');
    assert.equal(decideLink({ observation: null, rawDocument: '529.982.247-25', ...lookups }).document, '52998224725');
    assert.equal(decideLink({ observation: null, rawDocument: 'xx', ...lookups }).document, null);
    // Undecided: its CPF reading (the same digits), so an ERP import can find it later.
    assert.equal(decideLink({ observation: null, rawDocument: documentTextOfJsonNumber(191), ...lookups }).document, '00000000191');
  });
  it('explains an undecided JSON number', () => {
    const { lookups } = erp(CONTRACTS);
    const result = decideLink({ observation: null, rawDocument: documentTextOfJsonNumber(123456797), ...lookups });
    assert.match(result.reason, /JSON number that is a valid CPF and a valid CNPJ/);
    assert.match(result.reason, /\(JSON number\)/);
  });
});

describe('settleClaims: one contract, one platform customer', () => {
  const claim = (externalId: string, status: Claim['status'], serviceId = '100', name: string | null = `Cliente ${externalId}`): Claim => ({ externalId, name, status, serviceId });
  const lostOf = (claims: Claim[]) => Object.fromEntries(settleClaims(claims).map((lost) => [lost.externalId, lost]));

  it('a single claim stands', () => {
    assert.deepEqual(settleClaims([claim('a', 'linked_by_document'), claim('b', 'linked', '200')]), []);
  });
  it('two document-only claims are both ambiguous, each naming the other', () => {
    const lost = lostOf([claim('a', 'linked_by_document'), claim('b', 'linked_by_document')]);
    assert.deepEqual(Object.keys(lost).sort(), ['a', 'b']);
    assert.equal(lost.a?.status, 'ambiguous');
    assert.equal(lost.a?.serviceId, null);
    assert.equal(lost.a?.reasonCode, 'contract_claimed_by_document');
    assert.deepEqual(lost.a?.candidateServiceIds, ['100']);
    assert.match(lost.a?.reason ?? '', /platform customer b \(Cliente b\)/);
    assert.doesNotMatch(lost.a?.reason ?? '', /customer a /);
    assert.match(lost.b?.reason ?? '', /platform customer a \(Cliente a\)/);
  });
  it('an id in the observation beats a document match', () => {
    const lost = lostOf([claim('doc', 'linked_by_document'), claim('id', 'linked')]);
    assert.deepEqual(Object.keys(lost), ['doc']);
    assert.equal(lost.doc?.reasonCode, 'contract_claimed_by_id');
    assert.match(lost.doc?.reason ?? '', /platform customer id \(Cliente id\) names that service/);
  });
  it('two ids on one contract: everybody is ambiguous', () => {
    const lost = lostOf([claim('x', 'linked'), claim('y', 'linked'), claim('z', 'linked_by_document')]);
    assert.deepEqual(Object.keys(lost).sort(), ['x', 'y', 'z']);
    assert.equal(lost.x?.reasonCode, 'contract_claimed_by_several_ids');
    assert.match(lost.x?.reason ?? '', /platform customer y/);
    assert.equal(lost.z?.reasonCode, 'contract_claimed_by_id');
  });
  it('claims on different contracts do not meet', () => {
    assert.deepEqual(settleClaims([claim('a', 'linked_by_document', '1'), claim('b', 'linked_by_document', '2'), claim('c', 'linked', '3')]), []);
  });
  it('masks a document typed into a name', () => {
    const lost = lostOf([claim('a', 'linked_by_document'), claim('b', 'linked_by_document', '100', 'Maria CPF 123.456.789-09'), claim('c', 'linked_by_document', '100', 'Loja 12.ABC.345/01DE-35 Ltda')]);
    const reason = lost.a?.reason ?? '';
    assert.match(reason, /Maria CPF \*\*\*\.\*\*\*\.\*89-09/);
    assert.match(reason, /Loja \*\*\.\*\*\*\.\*\*\*\/\*\*DE-35 Ltda/);
    assert.ok(!reason.includes('456.789') && !reason.includes('ABC.345'), reason);
  });
  it('names at most three others, without a name when there is none', () => {
    const claims = ['a', 'b', 'c', 'd', 'e'].map((id) => claim(id, 'linked_by_document', '100', id === 'b' ? null : `Cliente ${id}`));
    const lost = lostOf(claims);
    assert.match(lost.a?.reason ?? '', /platform customer b, platform customer c \(Cliente c\), platform customer d \(Cliente d\) and 1 more/);
  });
});

describe('personTypeOf (re-exported for the push adapters)', () => {
  it('maps CPF to person and CNPJ to company', () => {
    assert.equal(personTypeOf(ANA), 'person');
    assert.equal(personTypeOf(ACME), 'company');
    assert.equal(personTypeOf(NOVA), 'company');
  });
});
