/**
 * Reads the ERP's `id_cliente_servico` out of a platform customer's observation field.
 *
 * The field is free text typed by people, sometimes HTML. A number is taken when a label
 * names it (`ID: 123`, `id_cliente_servico=456`, `Cliente 321`) or, failing any label,
 * when it is the only plausible number left. Numbers that are clearly something else are
 * never taken: plan speeds (`300M`), phones, CEPs, dates, times, money, documents, ordinals,
 * codes glued to letters (`CTO12`). A wrong pick is still caught later, because linking
 * only binds when the customer's document agrees with the contract's.
 */

export type ServiceIdResult =
  | { id: string; labelled: boolean }
  | { id: null; reason: 'empty' | 'no_id' | 'several_ids'; candidates?: string[] };

/** Longest id accepted after a label; longer runs are phones or documents. */
const MAX_LABELLED_ID_DIGITS = 10;
/** Longest bare number accepted inside other text (8+ digit runs are CEPs and phones). */
const MAX_BARE_ID_DIGITS = 7;
/** How far back a label is looked for. */
const PREFIX_WINDOW = 48;
const SUFFIX_WINDOW = 24;

const SCRIPT_OR_STYLE = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const HTML_COMMENT = /<!--[\s\S]*?-->/g;
const HTML_TAG = /<\/?[a-z!][^>]*>/gi;
const HTML_ENTITY = /&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});/gi;
const ACCENTED_ENTITY = /^([a-z])(acute|grave|circ|tilde|uml|cedil|ring)$/i;
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", ordm: 'º', ordf: 'ª', deg: '°',
  ndash: '-', mdash: '-', hyphen: '-', minus: '-', sol: '/', colon: ':', num: '#', equals: '=',
};
const COMBINING_MARKS = /[\u0300-\u036f]/g;
const WHITESPACE = /[\s\u00a0\u200b-\u200d\u2028\u2029\ufeff]+/g;
const DASHES = /[\u2010-\u2015\u2212]/g;

/**
 * Phones are blanked out before numbers are read: `(11) 98765-4321`, `+55 11 98765 4321`,
 * `11 98765 4321`. Dash- or dot-joined runs are rejected later anyway.
 */
const PHONE =
  /(?:\+\s*55[\s.-]*)?\(\s*\d{2}\s*\)\s*\d{4,5}[\s.-]?\d{4}(?!\d)|\+\s*55[\s.-]*\d{2}[\s.-]*\d{4,5}[\s.-]?\d{4}(?!\d)|(?<!\d)\d{2}\s+9\d{4}[\s.-]?\d{4}(?!\d)/g;

/** A run of digits, with the punctuation that joins formatted numbers (13000-000, 12/05/2024, 1.500,00, 10:30). */
const NUMBER_RUN = /\d+(?:[.,/:-]\d+)*/g;
const ONLY_DIGITS = /^\d+$/;
const LEADING_ZEROS = /^0+/;
const LETTER = /[a-z]/;

/** The field's own name: strongest evidence. */
const STRONG_LABEL =
  /(?:^|[^a-z0-9])(?:id[\s_.-]*(?:d[oe][\s_-]*)?cliente[\s_.-]*(?:d[oe][\s_-]*)?servico|id[\s_.-]*(?:d[oe][\s_-]*)?servico)[\s.]*(?:n[ºo°]\.?)?\s*[:=#.\-]*\s*$/;
/** Other words people put before the id. */
const WEAK_LABEL =
  /(?:^|[^a-z0-9])(?:(?:id|cod(?:igo)?|n[ºo°]?|num(?:ero)?)[\s_.-]*(?:d[oae][\s_-]*)?(?:cliente|contrato|servico)|id|cod(?:igo)?|contrato|cliente|servico)[\s.]*(?:n[ºo°]\.?)?\s*[:=#.\-]*\s*$/;
/** Words after which a bare number is something else: a plan, a phone, an address, equipment… */
const NOT_AN_ID_LABEL =
  /(?:^|[^a-z0-9])(?:plano|pacote|velocidade|internet|fibra|tel|telefone|fone|cel|celular|whats(?:app)?|wpp|zap|contato|cep|cpf|cnpj|rg|ie|porta|cto|ceo|caixa|cx|splitter|spl|olt|onu|ont|pon|slot|vlan|serial|sn|mac|ip|rua|av|avenida|travessa|rod|rodovia|estrada|n|no|nº|n°|num|numero|apto|apt|ap|casa|lote|lt|quadra|qd|bloco|bl|km|sala|andar|desde|em|ano|dia|vencimento|venc|valor|pago|pagamento|parcela|boleto|fatura|protocolo|os|chamado)[\s.]*[:=#-]*\s*$/;
/** "Telefone do cliente: …", "CPF do cliente …": a label word owned by something else. */
const OWNED_LABEL =
  /(?:^|[^a-z0-9])(?:tel|telefone|fone|cel|celular|whats(?:app)?|contato|cpf|cnpj|cep|rg|endereco|nome|email|plano|velocidade|vencimento|valor)[\s.]*(?:d[oae][\s_-]+)?(?:cliente|contrato|servico)[\s.]*(?:n[ºo°]\.?)?\s*[:=#.\-]*\s*$/;
/** After the number: units of speed, data, time, distance, money, and ordinals. */
const UNIT_AFTER =
  /^\s*(?:k|kb|kbps|m|mb|mbs|mbps|mega|megas|g|gb|gbps|giga|gigas|t|tb|h|hs|hr|hrs|hora|horas|min|mins|minuto|minutos|s|seg|dia|dias|mes|meses|ano|anos|x|mt|mts|metro|metros|km|reais|real|rs|%|º|ª|°)(?![a-z0-9])/;
const MONEY_BEFORE = /(?:r\$|\$)\s*$/;
const MONTHS = 'janeiro|fevereiro|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez';
const MONTH_AFTER = new RegExp(`^\\s*(?:de\\s+)?(?:${MONTHS})(?![a-z])`);
const MONTH_BEFORE = new RegExp(`(?:^|[^a-z])(?:${MONTHS})\\.?\\s*(?:de\\s+)?$`);
const WHOLE_NUMBER = /^\s*(?:#|n[ºo°]\.?)?\s*(\d+)\s*$/;

type Tier = 'strong' | 'weak' | 'bare';

export function extractServiceId(observation: string | null | undefined): ServiceIdResult {
  if (observation == null) return { id: null, reason: 'empty' };
  const text = cleanObservation(observation);
  if (text === '') return { id: null, reason: 'empty' };

  // The whole field is just a number: that is the id, up to the labelled length.
  const whole = WHOLE_NUMBER.exec(text);
  if (whole) {
    const id = stripZeros(whole[1] ?? '');
    return id !== '' && id.length <= MAX_LABELLED_ID_DIGITS ? { id, labelled: false } : { id: null, reason: 'no_id' };
  }

  const found: Record<Tier, string[]> = { strong: [], weak: [], bare: [] };
  const scan = text.replace(PHONE, ' ');
  for (const match of scan.matchAll(NUMBER_RUN)) {
    const start = match.index;
    const run = match[0];
    const tier = classify(scan, run, start, start + run.length);
    if (tier === null) continue;
    const id = stripZeros(run);
    const limit = tier === 'bare' ? MAX_BARE_ID_DIGITS : MAX_LABELLED_ID_DIGITS;
    if (id === '' || id.length > limit) continue;
    if (!found[tier].includes(id)) found[tier].push(id);
  }

  for (const tier of ['strong', 'weak', 'bare'] as const) {
    const ids = found[tier];
    if (ids.length === 1) return { id: ids[0] as string, labelled: tier !== 'bare' };
    if (ids.length > 1) return { id: null, reason: 'several_ids', candidates: ids };
  }
  return { id: null, reason: 'no_id' };
}

/** Which kind of evidence a number run is, or null when it is not an id at all. */
function classify(text: string, run: string, start: number, end: number): Tier | null {
  if (!ONLY_DIGITS.test(run)) return null; // formatted: CEP, date, document, money, time, phone
  const before = text.charAt(start - 1);
  const after = text.charAt(end);
  if (before === '+' || before === '$') return null;
  if (after !== '' && LETTER.test(after)) return null; // 300m, 123abc (units included)
  const suffix = text.slice(end, end + SUFFIX_WINDOW);
  if (UNIT_AFTER.test(suffix) || MONTH_AFTER.test(suffix)) return null;

  const prefix = text.slice(Math.max(0, start - PREFIX_WINDOW), start);
  if (MONEY_BEFORE.test(prefix) || MONTH_BEFORE.test(prefix)) return null;
  if (STRONG_LABEL.test(prefix)) return 'strong';
  if (WEAK_LABEL.test(prefix)) return OWNED_LABEL.test(prefix) ? null : 'weak';
  if (before !== '' && LETTER.test(before)) return null; // CTO12, porta3
  if (NOT_AN_ID_LABEL.test(prefix)) return null;
  return 'bare';
}

/** Plain, lower-case, accent-free text with single spaces. */
function cleanObservation(raw: string): string {
  const withoutTags = stripTags(raw);
  // Entities may hide further tags (`&lt;p&gt;`), so tags are stripped again once decoded.
  const decoded = stripTags(withoutTags.replace(HTML_ENTITY, decodeEntity));
  return decoded
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(DASHES, '-')
    .replace(WHITESPACE, ' ')
    .trim();
}

function stripTags(text: string): string {
  if (!text.includes('<')) return text;
  return text.replace(SCRIPT_OR_STYLE, ' ').replace(HTML_COMMENT, ' ').replace(HTML_TAG, ' ');
}

function decodeEntity(entity: string, body: string): string {
  if (body.charAt(0) === '#') {
    const code = body.charAt(1).toLowerCase() === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
  }
  const named = NAMED_ENTITIES[body.toLowerCase()];
  if (named !== undefined) return named;
  const accented = ACCENTED_ENTITY.exec(body);
  return accented ? (accented[1] ?? '') : entity;
}

function stripZeros(digits: string): string {
  return digits.replace(LEADING_ZEROS, '');
}
