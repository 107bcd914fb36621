/**
 * Text from platform fields, with what mapsync stores. PostgreSQL text holds neither a NUL
 * nor a lone UTF-16 surrogate: NULs are dropped, each lone surrogate becomes U+FFFD, and
 * everything else (accents, emoji, other control characters) is kept as it is. Add rows freely.
 */
export const TEXT_CASES: { name: string; input: string; stored: string }[] = [
  { name: 'a NUL inside a name (issue 11)', input: 'Nul\u0000Byte', stored: 'NulByte' },
  { name: 'a lone high surrogate (issue 16)', input: '\ud800', stored: '\uFFFD' },
  { name: 'a NUL at the end, as C strings leave', input: 'CTO-12\u0000', stored: 'CTO-12' },
  { name: 'only NULs', input: '\u0000\u0000', stored: '' },
  { name: 'a lone low surrogate', input: 'a\udc00b', stored: 'a\uFFFDb' },
  { name: 'half an emoji cut by a length limit', input: 'Cliente \ud83d', stored: 'Cliente \uFFFD' },
  { name: 'two high surrogates in a row', input: '\ud83d\ud83d\ude00', stored: '\uFFFD\ud83d\ude00' },
  { name: 'a low surrogate before its high one', input: '\ude00\ud83d', stored: '\uFFFD\uFFFD' },
  { name: 'a NUL between the halves of a pair', input: '\ud83d\u0000\ude00', stored: '\ud83d\ude00' },
  { name: 'a whole emoji is kept', input: 'Padaria 🍞 do João', stored: 'Padaria 🍞 do João' },
  { name: 'accents are kept', input: 'São João da Boa Vista — Açaí', stored: 'São João da Boa Vista — Açaí' },
  { name: 'tabs and new lines are kept', input: 'linha 1\n\tlinha 2\r\n', stored: 'linha 1\n\tlinha 2\r\n' },
  { name: 'other control characters are kept (PostgreSQL stores them)', input: 'a\u0001b\u001fc', stored: 'a\u0001b\u001fc' },
  { name: 'the text "\\u0000" as six characters is kept', input: 'obs: \\u0000', stored: 'obs: \\u0000' },
  { name: 'U+FFFD already there is kept', input: 'Jo\uFFFDo', stored: 'Jo\uFFFDo' },
  { name: 'a NUL in a document', input: '123.456.789-09\u0000', stored: '123.456.789-09' },
  { name: 'an empty text', input: '', stored: '' },
];
