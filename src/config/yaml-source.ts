/**
 * A YAML config file read with the text as typed kept beside each value, so that a value
 * YAML reads differently from what was written is never taken in silence: `link: 0101`
 * (the number 101), `link: 2024.10` (2024.1), `folders: [007]` (7), `link: 0x1F`, `link: ~`.
 * The yaml library keeps each scalar's source text (Scalar.source); this compares against it.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';

export interface TypedScalar {
  path: PropertyKey[];
  /** The scalar as written in the file. */
  source: string;
  /** What YAML made of it: a number, a boolean or null. */
  value: unknown;
}

export type YamlRead =
  | { ok: true; value: unknown; problems: { path: PropertyKey[]; message: string }[]; typedScalars: TypedScalar[] }
  | { ok: false; message: string };

/** Integers as an id is written: `101`, not `0101`, `1e3`, `0x65` or `+101`. */
const PLAIN_INTEGER = /^(0|[1-9][0-9]*)$/;

/**
 * Paths of values that are names or platform ids: text always, a plain integer standing for
 * an id where `idAllowed`.
 */
function nameRule(path: readonly PropertyKey[]): { idAllowed: boolean } | null {
  const [root, , ...rest] = path;
  if (root !== 'integrations') return null;
  const at = rest.map(String).join('.');
  if (at === 'project.link') return { idAllowed: true };
  if (at === 'project.create') return { idAllowed: false };
  if (rest.length === 3 && rest[0] === 'scope' && rest[1] === 'folders' && typeof rest[2] === 'number') return { idAllowed: true };
  return null;
}

/**
 * Parses one YAML file. A name (`project.link`, `project.create`, `scope.folders[]`) that YAML
 * would read as anything but the text typed gives a problem showing how to quote it (the value
 * is kept as typed so the schema does not report it twice); every other non-text scalar is
 * listed in `typedScalars` for the schema's messages.
 */
export function readYamlFile(text: string): YamlRead {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    const line = error.linePos?.[0]?.line;
    return { ok: false, message: `${error.message.split('\n')[0]!.replace(/:$/, '')}${quoteHint(text, line)}` };
  }
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const typedScalars: TypedScalar[] = [];

  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (typeof key === 'string' || typeof key === 'number') walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      // YAML 1.1 booleans, text in YAML 1.2: kept to explain a "must be true or false".
      if (node.type === 'PLAIN' && /^(y|n|yes|no|on|off)$/i.test(node.value)) typedScalars.push({ path, source: node.value, value: node.value });
    } else if (isScalar(node)) {
      const source = node.source === undefined ? String(node.value) : String(node.source);
      const rule = nameRule(path);
      if (!rule) {
        typedScalars.push({ path, source, value: node.value });
        return;
      }
      if (rule.idAllowed && typeof node.value === 'number' && PLAIN_INTEGER.test(source)) return;
      const last = path[path.length - 1];
      const quoted = typeof last === 'number' ? `"${source}"` : `${String(last)}: "${source}"`;
      problems.push({
        path,
        message:
          `${source === '' ? 'is empty' : `is written ${source}, which YAML reads as ${readingOf(node.value)}`}; ` +
          `quote it to keep it as typed: ${quoted}` +
          (rule.idAllowed ? ' (a plain number such as 101 is taken as a platform id)' : ' (a name is always text)'),
      });
      // Kept as typed: the problem above already stops the load, the schema need not add one.
      node.value = source;
    }
  };
  walk(document.contents as Node | null, []);

  try {
    return { ok: true, value: document.toJS(), problems, typedScalars };
  } catch (error) {
    // An alias whose anchor does not exist: `schedule: *` read as a reference.
    const aliasLine = findAliasLine(document.contents as Node | null, text);
    return { ok: false, message: `${(error as Error).message}${aliasLine ? ` at line ${aliasLine}` : ''}${quoteHint(text, aliasLine)}` };
  }
}

function readingOf(value: unknown): string {
  if (value === null) return 'no value (null)';
  if (typeof value === 'number') return `the number ${Number.isFinite(value) ? value : String(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

const SPECIAL_START: Readonly<Record<string, string>> = {
  '*': 'a reference to an anchor (an alias)',
  '&': 'an anchor',
  '!': 'a tag',
  '@': 'a reserved character',
  '`': 'a reserved character',
  '%': 'a directive',
  '|': 'a block of text',
  '>': 'a block of text',
};

/** `; quote it: key: "…"` when line N is `key: <value starting with * & ! …>`. */
function quoteHint(text: string, line: number | undefined): string {
  if (!line) return '';
  const source = text.split(/\r?\n/)[line - 1] ?? '';
  const match = /^\s*(?:-\s+)?([A-Za-z_][\w.-]*)\s*:\s+([*&!@`%|>].*?)\s*$/.exec(source);
  if (!match) return '';
  const [, key, value] = match;
  const meaning = SPECIAL_START[value![0]!] ?? 'something other than text';
  const what = key === 'schedule' ? 'the cron expression' : 'the value';
  return `; ${key}'s value starts with "${value![0]}", which YAML reads as ${meaning}: quote ${what}, ${key}: "${value!.replace(/"/g, '\\"')}"`;
}

function findAliasLine(node: unknown, text: string): number | undefined {
  let found: number | undefined;
  const visit = (current: unknown): void => {
    if (found !== undefined) return;
    if (isAlias(current) && current.range) found = text.slice(0, current.range[0]).split('\n').length;
    else if (isMap(current)) for (const pair of current.items) visit(pair.value);
    else if (isSeq(current)) for (const item of current.items) visit(item);
  };
  visit(node);
  return found;
}
