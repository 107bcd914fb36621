/**
 * Reads the ERP's `id_cliente_servico` out of a platform customer's observation field.
 *
 * The field is free text typed by technicians, sometimes HTML. A number is taken when a label
 * names it (`ID: 123`, `id_cliente_servico=456`, `contrato 987`, `cod 55`, `serviço 12`), when
 * it is the whole field (`123`: what mapsync itself writes back is `id_cliente_servico: 123`),
 * or, failing both, when it is the only plausible number left in a longer note: a weak guess.
 *
 * Numbers that belong to something else never yield an id: measurements and their units
 * (`-25,69 dBm`, `3 dB`, `12fo`, `200 m`, `2 km`, `300 Mbps`, `50%`), ratios (`1x8`, `1 x 16`,
 * `1:8`), negative numbers, the values after words such as cabo, fibra, porta, splitter, CTO,
 * senha, wifi, telefone, CEP, plano (also a list of them: `portas 3 e 4`), phones, CEPs,
 * dates, years, times, money, documents, ordinals and codes glued to letters (`CTO12`).
 *
 * A weak guess is only a hint: linking never lets it block a match by document
 * (DESIGN.md, Customer linking, rule 6).
 */

/**
 * - `labelled`: a label names it (`ID: 123`, `contrato 987`);
 * - `alone`: the whole field is that number;
 * - `weak`: the only plausible number picked out of a longer note.
 */
export type IdStrength = 'labelled' | 'alone' | 'weak';

export type ServiceIdResult =
  | { id: string; strength: IdStrength }
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
/** Tags that end a line of text: the line is where a label's list of values stops. */
const LINE_BREAK_TAG = /<\s*(?:br|\/?p|\/?div|\/?li|\/?tr|\/?pre|\/?h[1-6])\b[^>]*>/gi;
const LINE_BREAKS = /\r\n?|[\u2028\u2029\u0085]/g;
const SPACES = /[^\S\n]+|[\u200b-\u200d\ufeff]+/g;
const BLANK_LINES = /\s*\n\s*/g;
const DASHES = /[\u2010-\u2015\u2212]/g;

/**
 * Phones are blanked out before numbers are read: `(11) 98765-4321`, `+55 11 98765 4321`,
 * `11 98765 4321`. Dash- or dot-joined runs are rejected later anyway.
 */
const PHONE =
  /(?:\+\s*55[\s.-]*)?\(\s*\d{2}\s*\)\s*\d{4,5}[\s.-]?\d{4}(?!\d)|\+\s*55[\s.-]*\d{2}[\s.-]*\d{4,5}[\s.-]?\d{4}(?!\d)|(?<![\d.,])\d{2}[ .-]+9?\d{4}[ .-]?\d{4}(?![\d.,])|(?<![\d.,])9?\d{4}[ .]\d{4}(?![\d.,])/g;

/** A run of digits, with the punctuation that joins formatted numbers (13000-000, 12/05/2024, 1.500,00, 10:30). */
const NUMBER_RUN = /\d+(?:[.,/:-]\d+)*/g;
const ONLY_DIGITS = /^\d+$/;
const LEADING_ZEROS = /^0+/;
const LETTER = /[a-z]/;

/** Spellings (and usual typos) of the words that name the service id. */
const SERVICE = '(?:servico|servicos|serv|srv|sevico|servio|servco)';
const CONTRACT = '(?:contrato|contratos|contarto|cotrato|contrado|cntrato|ctr)';
const CUSTOMER = '(?:cliente|client|clinte|cli)';
const CODE = '(?:cod|codigo|codg|cogido|cd)';
/** The field's own name (`id_cliente_servico`, `id serviço`, `idclienteservico`): strongest evidence. */
const STRONG_LABEL = new RegExp(
  `(?:^|[^a-z0-9])id[\\s_.-]*(?:d[oe][\\s_-]*)?(?:${CUSTOMER}[\\s_.-]*(?:d[oe][\\s_-]*)?)?${SERVICE}[\\s.]*(?:n[ºo°]\\.?)?\\s*[:=#.\\-]*\\s*$`,
);
/** Other words people put before the id: ID, contrato, cod, cliente, serviço, nº do contrato… */
const WEAK_LABEL = new RegExp(
  `(?:^|[^a-z0-9])(?:(?:id|${CODE}|n[ºo°]?|num(?:ero)?)[\\s_.-]*(?:d[oae][\\s_-]*)?(?:${CUSTOMER}|${CONTRACT}|${SERVICE})|ids?|${CODE}|${CONTRACT}|${CUSTOMER}|${SERVICE})[\\s.]*(?:n[ºo°]\\.?)?\\s*[:=#.\\-]*\\s*$`,
);
/**
 * Words after which a number is something else: network and equipment (cabo 4, porta 3,
 * splitter 8, potência -20), secrets and logins, contacts, plans, addresses, dates, money…
 */
const TECHNICAL_WORDS =
  'cabo|cabos|fibra|fibras|fo|porta|portas|pt|splitter|spliter|splitters|spl|sp|cto|ceo|cte|caixa|cx|cxs|olt|onu|ont|pon|gpon|slot|placa|vlan|serial|sn|mac|ip|potencia|pot|sinal|rx|tx|dbm|atenuacao|perda|distancia|metragem|drop|poste|bandeja|tubo|cor|fusao|fusoes|emenda|conector|conectores|roteador|router|modem|senha|password|pass|pw|pwd|wifi|wi-fi|ssid|rede|login|usuario|user|pppoe';
const OTHER_WORDS =
  'plano|pacote|velocidade|internet|tel|telefone|fone|cel|celular|whats|whatsapp|wpp|zap|contato|cep|cpf|cnpj|rg|ie|rua|r|av|avenida|travessa|tv|rod|rodovia|estrada|n|no|nº|n°|num|numero|apto|apt|ap|casa|lote|lt|quadra|qd|bloco|bl|km|sala|andar|desde|em|ano|dia|data|hora|horario|vencimento|venc|valor|pago|pagamento|parcela|boleto|fatura|protocolo|os|o\\.s|ordem|chamado|ticket|pedido|nota|nf';
const NOT_AN_ID_LABEL = new RegExp(`(?:^|[^a-z0-9])(?:${TECHNICAL_WORDS}|${OTHER_WORDS})[\\s.]*[:=#-]*\\s*$`);
const TECHNICAL_LABEL = new RegExp(`(?:^|[^a-z0-9])(?:${TECHNICAL_WORDS})[\\s.]*[:=#-]*\\s*$`);
/**
 * Values already listed after a label on the same line (`portas 3, 4 e 5`, `SPLITTER: 1x8 / 1x16`):
 * stripped so the label is seen from the next value too. Whitespace alone separates values only
 * after a technical word and a plain number (`CABO: 4 12`), since `plano 300M 4567` or
 * `fibra 1 giga 4567` may well end with the id.
 */
const LISTED_VALUE_WITH_SEPARATOR = /(?:-?\d+(?:[.,x:/]\d+)*[ ]?(?:[a-z%º°ª]{1,6}\.?)?[ ]?(?:,|\/|;|\+|&|-|\be\b|\bou\b|\ba\b)[ ]?)+$/;
const LISTED_BARE_VALUE = /(?:-?\d+(?:[.,x:/]\d+)*[ ]?(?:,|\/|;|\+|&|-|\be\b|\bou\b|\ba\b)?[ ]?)+$/;
/** "Telefone do cliente: …", "CPF do cliente …", "ordem de serviço …": a label word owned by something else. */
const OWNED_LABEL = new RegExp(
  `(?:^|[^a-z0-9])(?:tel|telefone|fone|cel|celular|whats(?:app)?|contato|cpf|cnpj|cep|rg|endereco|nome|email|plano|velocidade|vencimento|valor|senha|login|usuario|ordem|os|tipo|taxa|data|inicio|fim)[\\s.]*(?:d[oae][\\s_-]+)?(?:${CUSTOMER}|${CONTRACT}|${SERVICE})[\\s.]*(?:n[ºo°]\\.?)?\\s*[:=#.\\-]*\\s*$`,
);
/** After the number: units of measurement (optical power, fibres, length, speed, data, time, money) and ordinals. */
const UNIT_AFTER =
  /^[^\S\n]*(?:k|kb|kbps|m|mb|mbs|mbps|mega|megas|g|gb|gbps|giga|gigas|t|tb|h|hs|hr|hrs|hora|horas|min|mins|minuto|minutos|s|seg|ms|dia|dias|mes|meses|ano|anos|x|mt|mts|metro|metros|km|cm|mm|nm|reais|real|rs|db|dbm|dbi|fo|f\.o|mhz|ghz|w|v|kg|%|º|ª|°)(?![a-z0-9])/;
/**
 * After a number that no label names: what it counts (`2 cabos`, `3 portas`, `8 fibras`). After
 * a labelled id these words start the next note instead (`ID 4521 CTO 15`).
 */
const COUNTED_AFTER =
  /^[^\S\n]*(?:fibra|fibras|fib|vias|via|pares|par|portas|porta|pontos|pts|cabo|cabos|caixa|caixas|cto|ctos|poste|postes|splitter|splitters|spliters|conector|conectores|emenda|emendas|fusao|fusoes|drop|drops|onu|onus|roteador|roteadores|equipamento|equipamentos|un|und|unid|unidades|pcs|pc|vezes)(?![a-z0-9])/;
/** The right-hand side of a ratio: `1 x 8`, `1x 16`. */
const RATIO_BEFORE = /\d\s*x\s*$/;
/** `Rua das Flores, 145`: the number after a street name and a comma is the house number. */
const ADDRESS_BEFORE = /(?:^|[^a-z0-9])(?:rua|r\.|av|avenida|travessa|tv|alameda|al|praca|pca|rodovia|rod|estrada|estr|largo|vila|viela|beco)\.?\s[^\n,]{1,40},\s*$/;
/** A four-digit year inside a note: 1990–2039. */
const YEAR = /^(?:199\d|20[0-3]\d)$/;
const MONEY_BEFORE = /(?:r\$|\$)\s*$/;
const MONTHS = 'janeiro|fevereiro|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|jan|fev|mar|abr|mai|jun|jul|ago|set|out|nov|dez';
const MONTH_AFTER = new RegExp(`^[^\\S\\n]*(?:de\\s+)?(?:${MONTHS})(?![a-z])`);
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
    return id !== '' && id.length <= MAX_LABELLED_ID_DIGITS ? { id, strength: 'alone' } : { id: null, reason: 'no_id' };
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
    if (ids.length === 1) return { id: ids[0] as string, strength: tier === 'bare' ? 'weak' : 'labelled' };
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
  const label = labelTier(prefix);
  if (label !== undefined) return label;
  // `ID 123 / 456`, `contratos 10 e 11`: a list after a label is labelled too.
  const beforeList = prefix.replace(LISTED_VALUE_WITH_SEPARATOR, '');
  if (beforeList !== prefix) {
    const listLabel = labelTier(beforeList);
    if (listLabel !== undefined) return listLabel;
  }

  if (before !== '' && LETTER.test(before)) return null; // CTO12, porta3
  if (COUNTED_AFTER.test(suffix)) return null;
  if (before === '-' && !/[a-z0-9]/.test(text.charAt(start - 2))) return null; // -25 (a measurement)
  if (RATIO_BEFORE.test(prefix)) return null; // the 8 of 1 x 8
  if (NOT_AN_ID_LABEL.test(prefix) || NOT_AN_ID_LABEL.test(beforeList)) return null;
  if (TECHNICAL_LABEL.test(prefix.replace(LISTED_BARE_VALUE, ''))) return null; // CABO: 4 12
  if (ADDRESS_BEFORE.test(prefix)) return null;
  if (YEAR.test(run)) return null;
  return 'bare';
}

/** Which label ends `prefix`: 'strong', 'weak', null when a label owned by something else does, undefined when none. */
function labelTier(prefix: string): Tier | null | undefined {
  if (STRONG_LABEL.test(prefix)) return 'strong';
  if (WEAK_LABEL.test(prefix)) return OWNED_LABEL.test(prefix) ? null : 'weak';
  return undefined;
}

/** Plain, lower-case, accent-free text with single spaces, and line breaks kept as `\n`. */
function cleanObservation(raw: string): string {
  const withoutTags = stripTags(raw);
  // Entities may hide further tags (`&lt;p&gt;`), so tags are stripped again once decoded.
  const decoded = stripTags(withoutTags.replace(HTML_ENTITY, decodeEntity));
  return decoded
    .normalize('NFD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(DASHES, '-')
    .replace(LINE_BREAKS, '\n')
    .replace(SPACES, ' ')
    .replace(BLANK_LINES, '\n')
    .trim();
}

function stripTags(text: string): string {
  if (!text.includes('<')) return text;
  return text.replace(SCRIPT_OR_STYLE, ' ').replace(HTML_COMMENT, ' ').replace(LINE_BREAK_TAG, '\n').replace(HTML_TAG, ' ');
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
