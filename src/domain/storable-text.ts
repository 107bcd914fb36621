/**
 * PostgreSQL `text` cannot hold the NUL character (error 22021), and an unpaired UTF-16
 * surrogate (`\ud800`) is not a character at all: it cannot be encoded as UTF-8 and is
 * refused too (22P05 in json). Both only ever arrive by mistake or malice, so input
 * carrying them is refused with the field named, before it reaches SQL.
 */

// With the `u` flag a well-formed pair is one code point, so only lone halves match.
const UNSTORABLE = /[\u0000\ud800-\udfff]/u;

/** Why `text` cannot be stored in PostgreSQL, or null when it can. */
export function unstorableTextProblem(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\u0000' ? 'contains a NUL character (\\u0000)' : 'contains an unpaired UTF-16 surrogate';
}

/**
 * The first string (key or value) anywhere in a JSON-like value that PostgreSQL cannot
 * store, with its path (`items[3].name`), or null. Walks at most `maxDepth` levels.
 */
export function findUnstorableText(value: unknown, path = '', maxDepth = 32): { path: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = unstorableTextProblem(value);
    return problem ? { path: path || '(value)', problem } : null;
  }
  if (value === null || typeof value !== 'object' || maxDepth <= 0) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`, maxDepth - 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const keyProblem = unstorableTextProblem(key);
    const keyPath = path ? `${path}.${JSON.stringify(key)}` : JSON.stringify(key);
    if (keyProblem) return { path: keyPath, problem: `has a key that ${keyProblem}` };
    const found = findUnstorableText(item, path ? `${path}.${key}` : key, maxDepth - 1);
    if (found) return found;
  }
  return null;
}
