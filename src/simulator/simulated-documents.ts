import type { SeededRandom } from './seeded-random.ts';

/**
 * Brazilian documents as people type them: valid CPFs and CNPJs (numeric and the
 * alphanumeric CNPJ), formatted or not, lower-case, without leading zeros, with a wrong
 * check digit, or plain garbage. `clean` is the normal form the ERP would hold.
 */

const CNPJ_WEIGHTS_1 = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_WEIGHTS_2 = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function mod11Digit(sum: number): number {
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

export function cpfCheckDigits(base9: string): string {
  const digits = [...base9].map(Number);
  const d1 = mod11Digit(digits.reduce((acc, d, i) => acc + d * (10 - i), 0));
  const d2 = mod11Digit([...digits, d1].reduce((acc, d, i) => acc + d * (11 - i), 0));
  return `${d1}${d2}`;
}

/** Works for numeric and alphanumeric CNPJs: each character counts as its char code minus 48. */
export function cnpjCheckDigits(base12: string): string {
  const values = [...base12.toUpperCase()].map((c) => c.charCodeAt(0) - 48);
  const d1 = mod11Digit(values.reduce((acc, v, i) => acc + v * CNPJ_WEIGHTS_1[i]!, 0));
  const d2 = mod11Digit([...values, d1].reduce((acc, v, i) => acc + v * CNPJ_WEIGHTS_2[i]!, 0));
  return `${d1}${d2}`;
}

/**
 * A valid CPF. With `leadingZeros` it starts with exactly two zeros, the most a spreadsheet
 * may drop for `normaliseDocument` to restore it (9 digits); a third zero would make the
 * stripped form 8 digits, which the domain rules reject.
 */
export function randomCpf(random: SeededRandom, leadingZeros = false): string {
  let base = '';
  for (let i = 0; i < 9; i += 1) base += String(random.int(0, 9));
  // The third digit is mapped, not redrawn, so the rest of the seeded stream stays as it was.
  if (leadingZeros) base = `00${base[2] === '0' ? '1' : base[2]}${base.slice(3)}`;
  if (/^(\d)\1+$/.test(base)) base = `1${base.slice(1)}`;
  return base + cpfCheckDigits(base);
}

export function randomCnpj(random: SeededRandom): string {
  let base = '';
  for (let i = 0; i < 8; i += 1) base += String(random.int(0, 9));
  base += `000${random.int(1, 3)}`;
  return base + cnpjCheckDigits(base);
}

export function randomAlphanumericCnpj(random: SeededRandom): string {
  let base = '';
  for (let i = 0; i < 12; i += 1) base += random.pick([...ALPHANUMERIC]);
  if (!/[A-Z]/.test(base)) base = `A${base.slice(1)}`;
  return base + cnpjCheckDigits(base);
}

export function formatCpf(cpf: string): string {
  return `${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9)}`;
}

export function formatCnpj(cnpj: string): string {
  return `${cnpj.slice(0, 2)}.${cnpj.slice(2, 5)}.${cnpj.slice(5, 8)}/${cnpj.slice(8, 12)}-${cnpj.slice(12)}`;
}

export type DocumentStyle =
  | 'cpf_formatted'
  | 'cpf_digits'
  | 'cpf_spaces'
  | 'cpf_missing_leading_zeros'
  | 'cnpj_formatted'
  | 'cnpj_digits'
  | 'cnpj_alphanumeric_formatted'
  | 'cnpj_alphanumeric_lowercase'
  | 'cpf_wrong_check_digit'
  | 'garbage'
  | 'empty';

export interface SimulatedDocument {
  /** As typed on the platform (null when left empty). */
  raw: string | null;
  /** The valid normal form, or null when the document is invalid or absent. */
  clean: string | null;
  personType: 'F' | 'J';
  style: DocumentStyle;
}

const GARBAGE = ['não informado', '000.000.000-00', 'xxx', '123', 'ver contrato', '11111111111'];

export function randomDocument(random: SeededRandom, allowInvalid: boolean): SimulatedDocument {
  const roll = random.next();
  const invalidShare = allowInvalid ? 0.1 : 0;
  if (roll < invalidShare * 0.5) {
    const cpf = randomCpf(random);
    const wrong = `${cpf.slice(0, 10)}${(Number(cpf[10]) + 1) % 10}`;
    return { raw: formatCpf(wrong), clean: null, personType: 'F', style: 'cpf_wrong_check_digit' };
  }
  if (roll < invalidShare * 0.85) return { raw: random.pick(GARBAGE), clean: null, personType: 'F', style: 'garbage' };
  if (roll < invalidShare) return { raw: null, clean: null, personType: 'F', style: 'empty' };
  const kind = random.next();
  if (kind < 0.3) {
    const cpf = randomCpf(random);
    return { raw: formatCpf(cpf), clean: cpf, personType: 'F', style: 'cpf_formatted' };
  }
  if (kind < 0.5) {
    const cpf = randomCpf(random);
    return { raw: cpf, clean: cpf, personType: 'F', style: 'cpf_digits' };
  }
  if (kind < 0.55) {
    const cpf = randomCpf(random);
    return { raw: ` ${cpf.slice(0, 3)} ${cpf.slice(3, 6)} ${cpf.slice(6, 9)} ${cpf.slice(9)} `, clean: cpf, personType: 'F', style: 'cpf_spaces' };
  }
  if (kind < 0.65) {
    const cpf = randomCpf(random, true);
    return { raw: cpf.replace(/^0+/, ''), clean: cpf, personType: 'F', style: 'cpf_missing_leading_zeros' };
  }
  if (kind < 0.75) {
    const cnpj = randomCnpj(random);
    return { raw: formatCnpj(cnpj), clean: cnpj, personType: 'J', style: 'cnpj_formatted' };
  }
  if (kind < 0.82) {
    const cnpj = randomCnpj(random);
    return { raw: cnpj, clean: cnpj, personType: 'J', style: 'cnpj_digits' };
  }
  if (kind < 0.92) {
    const cnpj = randomAlphanumericCnpj(random);
    return { raw: formatCnpj(cnpj), clean: cnpj, personType: 'J', style: 'cnpj_alphanumeric_formatted' };
  }
  const cnpj = randomAlphanumericCnpj(random);
  return { raw: formatCnpj(cnpj).toLowerCase(), clean: cnpj, personType: 'J', style: 'cnpj_alphanumeric_lowercase' };
}
