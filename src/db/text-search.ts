/**
 * An ILIKE pattern matching `text` anywhere, with `%`, `_` and `\` typed by the user matched
 * as themselves. Use it as `column ILIKE ? ESCAPE '\'`.
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
