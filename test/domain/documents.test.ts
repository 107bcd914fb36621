import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { documentTextOfJsonNumber, formatDocument, maskDocument, normaliseDocument, personTypeOf } from '../../src/domain/documents.ts';

/** Written from DOMAIN.md, independently of the library the module uses, to cross-check it. */
function checkDigit(chars: string, weights: number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += (chars.charCodeAt(i) - 48) * (weights[i] as number);
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}
const CNPJ_W1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_W2 = [6, ...CNPJ_W1];
function completeCnpj(base12: string): string {
  const d1 = checkDigit(base12, CNPJ_W1);
  return `${base12}${d1}${checkDigit(`${base12}${d1}`, CNPJ_W2)}`;
}
function completeCpf(base9: string): string {
  const d1 = checkDigit(base9, [10, 9, 8, 7, 6, 5, 4, 3, 2]);
  return `${base9}${d1}${checkDigit(`${base9}${d1}`, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2])}`;
}

describe('normaliseDocument: valid documents', () => {
  const cases: Array<[string, 'cpf' | 'cnpj', string]> = [
    // CPF
    ['123.456.789-09', 'cpf', '12345678909'],
    ['12345678909', 'cpf', '12345678909'],
    [' 123 456 789 09 ', 'cpf', '12345678909'],
    ['123-456-789/09', 'cpf', '12345678909'],
    ['529.982.247-25', 'cpf', '52998224725'],
    ['111.444.777-35', 'cpf', '11144477735'],
    ['987.654.321-00', 'cpf', '98765432100'],
    ['CPF: 123.456.789-09', 'cpf', '12345678909'],
    ['cpf 52998224725', 'cpf', '52998224725'],
    ['123.456.789–09', 'cpf', '12345678909'], // en dash
    ['123\u00a0456\u00a0789\u00a009', 'cpf', '12345678909'],
    // CPF that lost leading zeros
    ['1234567890', 'cpf', '01234567890'],
    ['12.345.678-90', 'cpf', '01234567890'],
    ['123456797', 'cpf', '00123456797'],
    ['01234567890', 'cpf', '01234567890'],
    // numeric CNPJ
    ['12.345.678/0001-95', 'cnpj', '12345678000195'],
    ['12345678000195', 'cnpj', '12345678000195'],
    ['11.222.333/0001-81', 'cnpj', '11222333000181'],
    ['CNPJ nº 11.222.333/0001-81', 'cnpj', '11222333000181'],
    ['11 222 333 0001 81', 'cnpj', '11222333000181'],
    // numeric CNPJ that lost leading zeros
    ['0456789000190', 'cnpj', '00456789000190'],
    ['456789000190', 'cnpj', '00456789000190'],
    ['456.789/0001-90', 'cnpj', '00456789000190'],
    ['012345000165', 'cnpj', '00012345000165'],
    // alphanumeric CNPJ
    ['12.ABC.345/01DE-35', 'cnpj', '12ABC34501DE35'],
    ['12abc34501de35', 'cnpj', '12ABC34501DE35'],
    ['12.abc.345/01de-35', 'cnpj', '12ABC34501DE35'],
    ['A1.B2C.3D4/E5F6-68', 'cnpj', 'A1B2C3D4E5F668'],
    ['00.ABC.DEF/0001-57', 'cnpj', '00ABCDEF000157'],
    ['00.123.456/00AB-75', 'cnpj', '0012345600AB75'],
    ['AB.123.456/0001-10', 'cnpj', 'AB123456000110'],
    ['00.000.000/000A-04', 'cnpj', '00000000000A04'],
    ['Q0.SLF.MBD/7VX4-39', 'cnpj', 'Q0SLFMBD7VX439'],
    // an alphanumeric CNPJ starting with the letters of a label is not mistaken for one
    ['CPF123ABC00050', 'cnpj', 'CPF123ABC00050'],
  ];
  for (const [raw, kind, value] of cases) {
    it(`${JSON.stringify(raw)} → ${kind} ${value}`, () => {
      assert.deepEqual(normaliseDocument(raw), {
        ok: true,
        kind,
        value,
        personType: kind === 'cpf' ? 'person' : 'company',
      });
    });
  }
});

describe('normaliseDocument: rejected documents', () => {
  const cases: Array<[string | null | undefined, 'empty' | 'bad_format' | 'bad_check_digits' | 'repeated_digits']> = [
    [null, 'empty'],
    [undefined, 'empty'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['\n\t', 'empty'],
    ['...', 'bad_format'],
    ['-/-', 'bad_format'],
    ['abc', 'bad_format'],
    ['não informado', 'bad_format'],
    ['sem documento', 'bad_format'],
    ['123', 'bad_format'],
    ['191', 'bad_format'], // would be a valid CPF with eight zeros, too much to guess
    ['12345678', 'bad_format'],
    ['123456789012345', 'bad_format'],
    ['123456789012345678', 'bad_format'],
    ['123.456.789-0X', 'bad_format'],
    ['12.ABC.345/01DE-3A', 'bad_format'], // check digits are always numeric
    ['12.ABC.345/01DE', 'bad_format'],
    ['12.ÁBC.345/01DE-35', 'bad_format'],
    ['12.ABC.345/01DE-35-00', 'bad_format'],
    ['john@example.com', 'bad_format'],
    // wrong check digits
    ['123.456.789-00', 'bad_check_digits'],
    ['123.456.789-19', 'bad_check_digits'],
    ['12345678900', 'bad_check_digits'],
    ['12.345.678/0001-90', 'bad_check_digits'],
    ['12.345.678/0001-59', 'bad_check_digits'],
    ['12.ABC.345/01DE-36', 'bad_check_digits'],
    ['12.ABC.345/01DE-53', 'bad_check_digits'],
    ['12.ABD.345/01DE-35', 'bad_check_digits'],
    ['2345678000195', 'bad_check_digits'], // not a CNPJ that lost a zero
    ['1234567891', 'bad_check_digits'],
    // repeated digits, even though their check digits compute
    ['000.000.000-00', 'repeated_digits'],
    ['111.111.111-11', 'repeated_digits'],
    ['99999999999', 'repeated_digits'],
    ['00.000.000/0000-00', 'repeated_digits'],
    ['11.111.111/1111-11', 'repeated_digits'],
    ['0000000000', 'repeated_digits'],
    ['1111111111', 'repeated_digits'],
    ['000000000000', 'repeated_digits'],
  ];
  for (const [raw, reason] of cases) {
    it(`${JSON.stringify(raw)} → ${reason}`, () => {
      const result = normaliseDocument(raw);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.reason, reason);
        assert.equal(result.masked, maskDocument(raw));
      }
    });
  }
});

describe('normaliseDocument agrees with an independent check-digit implementation', () => {
  it('the DOMAIN.md example computes', () => {
    assert.equal(completeCnpj('12ABC34501DE'), '12ABC34501DE35');
  });
  const cnpjBases = ['12ABC34501DE', 'A1B2C3D4E5F6', 'ZZZZZZZZZZZY', '00ABCDEF0001', 'KLMNOPQRST99', '9Z8Y7X6W5V4U', '123456780001', '112223330001'];
  for (const base of cnpjBases) {
    it(`CNPJ ${base}: the right check digits pass, every other pair fails`, () => {
      const valid = completeCnpj(base);
      const ok = normaliseDocument(valid);
      assert.ok(ok.ok && ok.value === valid);
      for (let d = 0; d < 100; d++) {
        const pair = String(d).padStart(2, '0');
        const candidate = `${base}${pair}`;
        if (candidate === valid) continue;
        const result = normaliseDocument(candidate);
        assert.equal(result.ok, false, candidate);
      }
    });
  }
  for (const base of ['123456789', '529982247', '111444777', '314159265', '271828182']) {
    it(`CPF ${base}: the right check digits pass, every other pair fails`, () => {
      const valid = completeCpf(base);
      assert.deepEqual(normaliseDocument(valid), { ok: true, kind: 'cpf', value: valid, personType: 'person' });
      for (let d = 0; d < 100; d++) {
        const candidate = `${base}${String(d).padStart(2, '0')}`;
        if (candidate !== valid) assert.equal(normaliseDocument(candidate).ok, false, candidate);
      }
    });
  }
});

describe('normaliseDocument: placeholders are refused even when their check digits compute', () => {
  // The check digits are computed here, so each case would pass the check-digit rule alone.
  const bases: Array<[string, string]> = [
    ['111111111111', 'numeric CNPJ, base of ones (11.111.111/1111-80)'],
    ['222222222222', 'numeric CNPJ, base of twos'],
    ['999999999999', 'numeric CNPJ, base of nines'],
    ['AAAAAAAAAAAA', 'alphanumeric CNPJ, base of A'],
    ['ZZZZZZZZZZZZ', 'alphanumeric CNPJ, base of Z'],
    ['XXXXXXXXXXXX', 'alphanumeric CNPJ, base of X'],
    ['111111111', 'CPF, base of ones'],
    ['555555555', 'CPF, base of fives'],
  ];
  for (const [base, name] of bases) {
    const complete = base.length === 9 ? completeCpf(base) : completeCnpj(base);
    for (const typed of [complete, complete.toLowerCase(), formatDocument(complete)]) {
      it(`${name}: ${JSON.stringify(typed)} → repeated_digits`, () => {
        const result = normaliseDocument(typed);
        assert.equal(result.ok, false, JSON.stringify(result));
        if (!result.ok) assert.equal(result.reason, 'repeated_digits');
      });
    }
  }
  it('the example from the issue: 11.111.111/1111-80', () => {
    assert.equal(completeCnpj('111111111111'), '11111111111180');
    assert.deepEqual(normaliseDocument('11.111.111/1111-80'), { ok: false, reason: 'repeated_digits', masked: '**.***.***/**11-80' });
  });
  it('a CNPJ whose 8-digit root is repeated but whose branch is real stays valid (Banco do Brasil)', () => {
    assert.deepEqual(normaliseDocument('00.000.000/0001-91'), { ok: true, kind: 'cnpj', value: '00000000000191', personType: 'company' });
    const other = completeCnpj('111111110001');
    assert.equal(normaliseDocument(other).ok, true);
  });
});

describe('normaliseDocument: a document the platform sent as a JSON number', () => {
  type Expected = { ok: true; kind: 'cpf' | 'cnpj'; value: string } | { ok: false; reason: string; candidates?: [string, string] };
  const cases: Array<[number, Expected, string]> = [
    // Exactly one reading is valid: that one.
    [12345678909, { ok: true, kind: 'cpf', value: '12345678909' }, 'a CPF with no zero to lose'],
    [1234567890, { ok: true, kind: 'cpf', value: '01234567890' }, 'a CPF that lost one zero'],
    [12345678000195, { ok: true, kind: 'cnpj', value: '12345678000195' }, 'a CNPJ, 14 digits'],
    [456789000190, { ok: true, kind: 'cnpj', value: '00456789000190' }, 'a CNPJ that lost two zeros'],
    [Number('0' + '11222333000181'), { ok: true, kind: 'cnpj', value: '11222333000181' }, 'a CNPJ'],
    // Two zeros or more lost from a CPF: the number is also a valid CNPJ, only the ERP can tell.
    [41837207, { ok: false, reason: 'cpf_or_cnpj', candidates: ['00041837207', '00000041837207'] }, 'the issue: 000.418.372-07'],
    [123456797, { ok: false, reason: 'cpf_or_cnpj', candidates: ['00123456797', '00000123456797'] }, 'a CPF that lost two zeros'],
    [191, { ok: false, reason: 'cpf_or_cnpj', candidates: ['00000000191', '00000000000191'] }, 'CPF 000.000.001-91 or Banco do Brasil'],
    // Neither reading is valid.
    [41837208, { ok: false, reason: 'bad_check_digits' }, 'a wrong check digit'],
    [12345678900, { ok: false, reason: 'bad_check_digits' }, 'an 11-digit number that is no CPF nor CNPJ'],
    [0, { ok: false, reason: 'repeated_digits' }, 'zero'],
    [11111111111, { ok: false, reason: 'repeated_digits' }, 'placeholder CPF'],
    [11111111111180, { ok: false, reason: 'repeated_digits' }, 'placeholder CNPJ'],
    [123456789012345, { ok: false, reason: 'bad_format' }, '15 digits'],
    [-41837207, { ok: false, reason: 'bad_format' }, 'negative'],
    [418372.07, { ok: false, reason: 'bad_format' }, 'not a whole number'],
    [1e21, { ok: false, reason: 'bad_format' }, 'huge'],
  ];
  for (const [value, expected, name] of cases) {
    it(`${name}: ${value} → ${expected.ok ? expected.value : expected.reason}`, () => {
      const result = normaliseDocument(documentTextOfJsonNumber(value));
      if (expected.ok) {
        assert.deepEqual(result, { ...expected, personType: expected.kind === 'cpf' ? 'person' : 'company' });
      } else {
        assert.equal(result.ok, false, JSON.stringify(result));
        if (!result.ok) {
          assert.equal(result.reason, expected.reason);
          assert.deepEqual(result.candidates, expected.candidates);
          assert.ok(!result.masked.includes(String(Math.abs(value)).slice(0, 5)) || String(value).length <= 4, result.masked);
        }
      }
    });
  }
  it('keeps the string rule for text: the same digits typed as text are not padded beyond two zeros', () => {
    assert.equal(normaliseDocument('41837207').ok, false);
    assert.equal(normaliseDocument('191').ok, false);
    assert.deepEqual(normaliseDocument('00041837207'), { ok: true, kind: 'cpf', value: '00041837207', personType: 'person' });
  });
  it('masks the number and says it came as one', () => {
    assert.equal(maskDocument(documentTextOfJsonNumber(41837207)), '******07 (JSON number)');
  });
});

describe('personTypeOf', () => {
  it('derives the person type from a normal document', () => {
    assert.equal(personTypeOf('12345678909'), 'person');
    assert.equal(personTypeOf('12345678000195'), 'company');
    assert.equal(personTypeOf('12ABC34501DE35'), 'company');
  });
  for (const bad of ['', '1234567890', '12abc34501de35', '12.345.678/0001-95', '123456789012']) {
    it(`throws for ${JSON.stringify(bad)}`, () => assert.throws(() => personTypeOf(bad), RangeError));
  }
  it('refuses something that is not in normal form, without echoing it', () => {
    assert.throws(
      () => personTypeOf('123.456.789-09'), // 14 characters, like a CNPJ
      (error: Error) => error instanceof RangeError && !error.message.includes('123.456.789-09') && !error.message.includes('123456'),
    );
  });
});

describe('formatDocument', () => {
  const cases: Array<[string, string]> = [
    ['12345678909', '123.456.789-09'],
    ['01234567890', '012.345.678-90'],
    ['12345678000195', '12.345.678/0001-95'],
    ['00456789000190', '00.456.789/0001-90'],
    ['12ABC34501DE35', '12.ABC.345/01DE-35'],
    ['garbage', 'garbage'],
    ['', ''],
  ];
  for (const [normal, shown] of cases) {
    it(`${JSON.stringify(normal)} → ${JSON.stringify(shown)}`, () => assert.equal(formatDocument(normal), shown));
  }
  it('round-trips through normaliseDocument', () => {
    for (const normal of ['12345678909', '12345678000195', '12ABC34501DE35', '00ABCDEF000157']) {
      const again = normaliseDocument(formatDocument(normal));
      assert.ok(again.ok && again.value === normal);
    }
  });
});

describe('maskDocument', () => {
  const cases: Array<[string | null | undefined, string]> = [
    ['123.456.789-09', '***.***.*89-09'],
    ['12345678909', '*******8909'],
    ['12.345.678/0001-95', '**.***.***/**01-95'],
    ['12.ABC.345/01DE-35', '**.***.***/**DE-35'],
    ['1234567890', '********90'],
    ['123456', '****56'],
    ['12345', '*****'],
    ['abc', '***'],
    ['', ''],
    [null, ''],
    [undefined, ''],
    ['  123   456  ', '*** *56'],
  ];
  for (const [raw, masked] of cases) {
    it(`${JSON.stringify(raw)} → ${JSON.stringify(masked)}`, () => assert.equal(maskDocument(raw), masked));
  }

  it('cuts long garbage to its tail and never shows a document hidden in it', () => {
    const masked = maskDocument('Cliente João da Silva, CPF 123.456.789-09, rua das flores');
    assert.ok(masked.length <= 24, masked);
    assert.ok(masked.startsWith('…'));
    assert.ok(!/\d/.test(masked), masked);
  });

  it('never reveals more than the last four letters or digits, whatever the input', () => {
    const inputs = [
      '123.456.789-09', '12345678909', '52998224725', '12.345.678/0001-95', '12ABC34501DE35', '12abc34501de35',
      '1234567890', '123456789', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '9'.repeat(40), 'a-b-c-d-e-f-g-h-i-j-k-l',
      'x', '12', '1234', '12345', '123456', ' 1 2 3 4 5 6 7 8 9 0 1 ', 'cpf: 111.444.777-35',
    ];
    for (const raw of inputs) {
      const masked = maskDocument(raw);
      const shown = [...masked].filter((ch) => /[0-9A-Za-z]/.test(ch)).length;
      const hideable = [...raw.trim()].filter((ch) => !'.-/ '.includes(ch)).length;
      assert.ok(shown <= 4, `${raw} → ${masked}`);
      assert.ok(shown < hideable || hideable === 0, `${raw} → ${masked} shows everything`);
      if (hideable >= 5) assert.ok(shown <= hideable / 2, `${raw} → ${masked}`);
    }
  });
});
