import { booleanPointInPolygon } from '@turf/turf';
import type { OzRecord } from './ozmap-records.ts';

/**
 * OZmap v2 list queries as the SDK sends them: `page`, `limit`, `select`, `populate` in the
 * query string; `filter` and `sort` as a JSON body on the GET (`{filter, sort}`) or, for
 * clients that cannot send a body on a GET, as JSON in the `filter` and `sort` query
 * parameters. Both are served; given both, every filter applies.
 */

export interface ApiFilter {
  property: string;
  operator: string;
  value: unknown;
}

export interface ApiSort {
  property: string;
  direction: 1 | -1;
}

export class QueryError extends Error {
  override name = 'QueryError';
}

/** A filter list: each entry must hold; an entry that is a list holds when any of its filters does. */
export type FilterList = Array<ApiFilter | ApiFilter[]>;

const OPERATORS = new Set(['=', '!=', 'like', '<', '<=', '>', '>=', 'in', 'notin', 'all', 'exists', 'within', 'near', 'point-intersect']);

function parseJsonParam(params: URLSearchParams, name: string): unknown {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new QueryError(`${name} must be JSON`);
  }
}

function checkFilter(filter: unknown): ApiFilter {
  if (!filter || typeof filter !== 'object' || Array.isArray(filter)) throw new QueryError('each filter must be {property, operator, value}');
  const { property, operator, value } = filter as Record<string, unknown>;
  if (typeof property !== 'string' || property.trim() === '') throw new QueryError('filter.property must be a non-empty string');
  if (typeof operator !== 'string' || !OPERATORS.has(operator)) throw new QueryError(`filter.operator ${JSON.stringify(operator)} is not one of ${[...OPERATORS].join(' ')}`);
  if (operator === 'near' || operator === 'point-intersect') throw new QueryError(`filter.operator ${operator} is not served by this simulator`);
  return { property: property.trim(), operator, value };
}

function checkFilters(raw: unknown): FilterList {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new QueryError('filter must be a list');
  return raw.map((entry) => (Array.isArray(entry) ? entry.map(checkFilter) : checkFilter(entry)));
}

function checkSorts(raw: unknown): ApiSort[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((sort) => {
    const { property, direction } = (sort ?? {}) as Record<string, unknown>;
    if (typeof property !== 'string' || (direction !== 1 && direction !== -1)) throw new QueryError('sort must be {property, direction: 1 | -1}');
    return { property, direction };
  });
}

export interface ListQuery {
  filters: FilterList;
  sorts: ApiSort[];
  page: number;
  limit: number;
  select: string[];
  populate: string[];
}

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

function words(params: URLSearchParams, name: string): string[] {
  return [...params.getAll(name), ...params.getAll(`${name}[]`)].flatMap((value) => value.split(/[\s,]+/)).filter(Boolean);
}

/** Reads a list query from the query string and the GET body; throws QueryError on a bad one. */
export function parseListQuery(params: URLSearchParams, body: unknown): ListQuery {
  const fromBody = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const filters = [...checkFilters(fromBody.filter), ...checkFilters(parseJsonParam(params, 'filter'))];
  const sorts = [...checkSorts(fromBody.sort), ...checkSorts(parseJsonParam(params, 'sort'))];
  const page = params.get('page') === null ? 1 : Number(params.get('page'));
  const limit = params.get('limit') === null ? DEFAULT_LIMIT : Number(params.get('limit'));
  if (!Number.isInteger(page) || page < 1) throw new QueryError('page must be an integer >= 1');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new QueryError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  return { filters, sorts, page, limit, select: words(params, 'select'), populate: words(params, 'populate') };
}

export function valueAt(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    if (Array.isArray(value) && !/^\d+$/.test(key)) {
      value = value.map((item) => (item && typeof item === 'object' ? (item as Record<string, unknown>)[key] : undefined));
      continue;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T|$)/;

/** Numbers compare as numbers, ISO dates as instants, other strings as strings. */
function comparable(value: unknown): number | string | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    if (ISO_DATE.test(value)) {
      const time = Date.parse(value);
      if (!Number.isNaN(time)) return time;
    }
    return value;
  }
  return null;
}

function compare(a: unknown, b: unknown): number | null {
  const x = comparable(a);
  const y = comparable(b);
  if (x === null || y === null || typeof x !== typeof y) return null;
  return x < y ? -1 : x > y ? 1 : 0;
}

const same = (a: unknown, b: unknown) => a === b || (a !== null && b !== null && typeof a !== 'object' && String(a) === String(b) && typeof a === typeof b) || compare(a, b) === 0;

/** Resolves `within {model:'project', id}` to the project's area polygon. */
export type AreaOf = (model: string, id: string) => { type: 'Polygon'; coordinates: Array<Array<[number, number]>> } | null;

function holds(record: OzRecord, filter: ApiFilter, areaOf: AreaOf): boolean {
  const actual = valueAt(record, filter.property);
  const values = Array.isArray(actual) ? actual : [actual];
  const expected = filter.value;
  switch (filter.operator) {
    case '=':
      return expected === null ? actual === null || actual === undefined : values.some((v) => same(v, expected));
    case '!=':
      return expected === null ? actual !== null && actual !== undefined : !values.some((v) => same(v, expected));
    case 'in':
    case 'notin': {
      if (!Array.isArray(expected)) throw new QueryError(`filter ${filter.property} ${filter.operator} takes a list`);
      const found = values.some((v) => expected.some((e) => same(v, e)));
      return filter.operator === 'in' ? found : !found;
    }
    case 'all': {
      if (!Array.isArray(expected)) throw new QueryError(`filter ${filter.property} all takes a list`);
      return expected.every((e) => values.some((v) => same(v, e)));
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const order = compare(actual, expected);
      if (order === null) return false;
      return filter.operator === '<' ? order < 0 : filter.operator === '<=' ? order <= 0 : filter.operator === '>' ? order > 0 : order >= 0;
    }
    case 'exists': {
      const present = actual !== undefined && actual !== null;
      return expected === false || expected === 'false' ? !present : present;
    }
    case 'like': {
      if (typeof expected !== 'string') throw new QueryError(`filter ${filter.property} like takes a string`);
      const needle = expected.toLowerCase();
      return values.some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
    }
    case 'within': {
      const value = (expected ?? {}) as Record<string, unknown>;
      let area: ReturnType<AreaOf>;
      if (value.type === 'Polygon' && Array.isArray(value.coordinates)) area = value as unknown as NonNullable<ReturnType<AreaOf>>;
      else if (typeof value.model === 'string' && typeof value.id === 'string') area = areaOf(value.model, value.id);
      else throw new QueryError(`filter ${filter.property} within takes {model, id} or a GeoJSON Polygon`);
      if (!area) throw new QueryError(`filter ${filter.property} within: no ${String(value.model)} ${String(value.id)}`);
      const point = actual;
      if (!Array.isArray(point) || point.length !== 2 || !point.every((n) => typeof n === 'number' && Number.isFinite(n))) return false;
      return booleanPointInPolygon(point as [number, number], area);
    }
    default:
      throw new QueryError(`filter.operator ${filter.operator} is not served by this simulator`);
  }
}

export function applyFilters(records: OzRecord[], filters: FilterList, areaOf: AreaOf): OzRecord[] {
  if (filters.length === 0) return records;
  return records.filter((record) => filters.every((entry) => (Array.isArray(entry) ? entry.some((f) => holds(record, f, areaOf)) : holds(record, entry, areaOf))));
}

export function applySorts(records: OzRecord[], sorts: ApiSort[]): OzRecord[] {
  if (sorts.length === 0) return records;
  return [...records].sort((a, b) => {
    for (const sort of sorts) {
      const order = compare(valueAt(a, sort.property), valueAt(b, sort.property));
      if (order) return order * sort.direction;
    }
    return 0;
  });
}

/** Keeps the selected fields (`name code`, or `-field` to leave one out); `_id` and `id` always stay. */
export function applySelect(record: unknown, select: string[]): unknown {
  if (select.length === 0 || !record || typeof record !== 'object') return record;
  const source = record as Record<string, unknown>;
  const excluded = select.filter((s) => s.startsWith('-')).map((s) => s.slice(1));
  const included = select.filter((s) => !s.startsWith('-'));
  if (included.length > 0) {
    const out: Record<string, unknown> = { _id: source._id, id: source.id };
    for (const key of included) if (key in source) out[key] = source[key];
    return out;
  }
  const out = { ...source };
  for (const key of excluded) delete out[key];
  return out;
}

/** The paged answer: `{ total, count, start, limit, rows, hasNextPage, nextUrl }`. */
export function pageOf(rows: unknown[], query: ListQuery, route: string, params: URLSearchParams) {
  const start = (query.page - 1) * query.limit;
  const slice = rows.slice(start, start + query.limit);
  const hasNextPage = start + slice.length < rows.length;
  let nextUrl: string | null = null;
  if (hasNextPage) {
    const next = new URLSearchParams(params);
    next.set('page', String(query.page + 1));
    next.set('limit', String(query.limit));
    nextUrl = `/api/v2/${route}?${next.toString()}`;
  }
  return { total: rows.length, count: slice.length, start, limit: query.limit, rows: slice, hasNextPage, nextUrl };
}
