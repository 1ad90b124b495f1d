import { ApiError } from './api-answer';

/**
 * Tastypie-style list queries: `limit`/`offset` paging, Django field
 * lookups (`name__istartswith=…`, `service_type__in=a,b`,
 * `aliases__alias=…`), `order_by`, and the `{meta, objects}` envelope with
 * path-relative `next`/`previous` links.
 */

export type FilterScalar = string | number | boolean | null;

/** How a list reads one filterable path (e.g. `name`, `aliases__alias`). */
export interface FilterField<Row> {
  kind: 'string' | 'integer' | 'boolean' | 'reference';
  /** One value, or every value of a to-many relation (any may match). */
  read(row: Row): FilterScalar | readonly FilterScalar[];
}

/** What a resource tells the query parser about its fields. */
export interface Queryable<Row> {
  /** Every top-level field; a parameter naming none of them is ignored. */
  fields: ReadonlySet<string>;
  filterable: ReadonlySet<string>;
  orderable: ReadonlySet<string>;
  /** The reader of a path such as `['aliases', 'alias']`, if supported. */
  field(path: readonly string[]): FilterField<Row> | undefined;
}

export interface Condition<Row> {
  /** Path joined with `__`, e.g. `aliases__alias`. */
  path: string;
  lookup: string;
  /** The coerced value, for stores that answer `exact` from an index. */
  value: FilterScalar | FilterScalar[];
  test(row: Row): boolean;
}

interface Ordering<Row> {
  descending: boolean;
  read(row: Row): FilterScalar | readonly FilterScalar[];
}

export interface ListRequest<Row> {
  limit: number;
  offset: number;
  conditions: Condition<Row>[];
  ordering: Ordering<Row>[];
}

export interface ListMeta {
  limit: number;
  next: string | null;
  offset: number;
  previous: string | null;
  total_count: number;
}

const RESERVED_PARAMS = new Set(['limit', 'offset', 'order_by', 'format']);

const LOOKUPS = new Set([
  'exact',
  'iexact',
  'contains',
  'icontains',
  'startswith',
  'istartswith',
  'endswith',
  'iendswith',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'isnull',
]);

const NULL_WORDS = new Set(['none', 'None', 'nil']);

/**
 * Reads paging, filters and ordering from a query string.
 *
 * @throws ApiError 400 `{"error": …}` on a bad limit, offset, filter value,
 *   a field that does not allow filtering or ordering
 * @example parseListRequest(new URLSearchParams('limit=5'), conferences, 20, 1000)
 */
export function parseListRequest<Row>(
  params: URLSearchParams,
  queryable: Queryable<Row>,
  defaultLimit: number,
  maxLimit: number,
): ListRequest<Row> {
  const limit = parseLimit(params.get('limit'), defaultLimit, maxLimit);
  const offset = parseOffset(params.get('offset'));

  const conditions: Condition<Row>[] = [];
  for (const key of new Set(params.keys())) {
    if (RESERVED_PARAMS.has(key)) continue;
    const condition = parseCondition(key, params.getAll(key), queryable);
    if (condition) conditions.push(condition);
  }

  const ordering = params
    .getAll('order_by')
    .map((spec) => parseOrdering(spec, queryable));

  return { limit, offset, conditions, ordering };
}

/**
 * Filters, orders and slices candidate rows.
 *
 * @param candidates rows in creation order (the order when none is asked)
 */
export function selectPage<Row>(
  candidates: Iterable<Row>,
  request: ListRequest<Row>,
): { total: number; rows: Row[] } {
  const { ordering, offset, limit } = request;
  const matching = filterRows(candidates, request.conditions);

  if (ordering.length > 0) matching.sort(compareBy(ordering));

  return {
    total: matching.length,
    rows: matching.slice(offset, offset + limit),
  };
}

/** The candidate rows that meet every condition, in their given order. */
export function filterRows<Row>(
  candidates: Iterable<Row>,
  conditions: readonly Condition<Row>[],
): Row[] {
  const matching: Row[] = [];
  // Plain loops: this runs once per stored row on every unindexed list.
  rows: for (const row of candidates) {
    for (const condition of conditions) {
      if (!condition.test(row)) continue rows;
    }
    matching.push(row);
  }
  return matching;
}

/**
 * The `meta` of a list page. `next`/`previous` keep every other query
 * parameter and put `limit` and `offset` last, as Tastypie does.
 */
export function listMeta(
  path: string,
  params: URLSearchParams,
  page: { limit: number; offset: number; total: number },
): ListMeta {
  const { limit, offset, total } = page;
  const link = (at: number) => {
    const kept = new URLSearchParams(params);
    kept.delete('limit');
    kept.delete('offset');
    kept.append('limit', String(limit));
    kept.append('offset', String(at));
    return `${path}?${kept.toString()}`;
  };

  return {
    limit,
    next: offset + limit >= total ? null : link(offset + limit),
    offset,
    previous: offset - limit < 0 ? null : link(offset - limit),
    total_count: total,
  };
}

/**
 * The `{meta, objects}` envelope as JSON text, from objects already
 * serialized: a page of a thousand rooms is then a join, not a re-encode.
 */
export function envelopeJson(meta: ListMeta, objectsJson: string[]): string {
  return `{"meta":${JSON.stringify(meta)},"objects":[${objectsJson.join(',')}]}`;
}

function parseLimit(
  raw: string | null,
  defaultLimit: number,
  maxLimit: number,
): number {
  if (raw === null) return Math.min(defaultLimit, maxLimit);

  const limit = parseWholeNumber(raw);
  if (limit === undefined || limit < 0) {
    throw ApiError.badRequest(
      `Invalid limit '${raw}' provided: give a whole number, 0 or more.`,
    );
  }

  // 0 asks for the largest page the server allows; more is capped silently.
  return limit === 0 ? maxLimit : Math.min(limit, maxLimit);
}

function parseOffset(raw: string | null): number {
  if (raw === null) return 0;

  const offset = parseWholeNumber(raw);
  if (offset === undefined || offset < 0) {
    throw ApiError.badRequest(
      `Invalid offset '${raw}' provided: give a whole number, 0 or more.`,
    );
  }
  return offset;
}

function parseWholeNumber(raw: string): number | undefined {
  return /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : undefined;
}

function parseCondition<Row>(
  key: string,
  rawValues: string[],
  queryable: Queryable<Row>,
): Condition<Row> | undefined {
  const bits = key.split('__');
  if (!queryable.fields.has(bits[0])) return undefined;
  if (!queryable.filterable.has(bits[0])) {
    throw ApiError.badRequest(
      `The '${bits[0]}' field does not allow filtering.`,
    );
  }

  const lookup =
    bits.length > 1 && LOOKUPS.has(bits[bits.length - 1])
      ? (bits.pop() as string)
      : 'exact';
  const field = queryable.field(bits);
  if (!field) {
    throw ApiError.badRequest(
      `Filtering on '${bits.join('__')}' is not supported.`,
    );
  }

  const path = bits.join('__');
  const raw = rawValues[rawValues.length - 1];
  const value =
    lookup === 'in'
      ? rawValues
          .flatMap((v) => v.split(','))
          .map((v) => coerce(field.kind, v, path))
      : lookup === 'isnull'
        ? coerce('boolean', raw, path)
        : NULL_WORDS.has(raw) && lookup === 'exact'
          ? null
          : coerce(field.kind, raw, path);
  const matches = matcher(lookup, value);

  return {
    path,
    lookup,
    value,
    test: (row) => {
      const read = field.read(row);
      if (!Array.isArray(read)) return matches(read as FilterScalar);
      if (lookup === 'isnull') return (read.length === 0) === value;
      return read.some(matches);
    },
  };
}

function coerce(
  kind: FilterField<unknown>['kind'],
  raw: string,
  path: string,
): FilterScalar {
  if (kind === 'string') return raw;

  if (kind === 'boolean') {
    if (['true', 'True', '1'].includes(raw)) return true;
    if (['false', 'False', '0'].includes(raw)) return false;
  } else {
    // A reference is given as a resource URI or a bare id.
    const digits = kind === 'reference' ? /(\d+)\/?$/.exec(raw)?.[1] : raw;
    const number = digits === undefined ? undefined : parseWholeNumber(digits);
    if (number !== undefined) return number;
  }
  throw ApiError.badRequest(`Invalid value '${raw}' for filter '${path}'.`);
}

function matcher(
  lookup: string,
  expected: FilterScalar | FilterScalar[],
): (actual: FilterScalar) => boolean {
  const text = (v: FilterScalar) => String(v);
  const lower = (v: FilterScalar) => String(v).toLowerCase();
  const wanted = expected as FilterScalar;
  const wantedText = text(wanted);
  const wantedLower = lower(wanted);
  const present = (f: (actual: NonNullable<FilterScalar>) => boolean) => {
    return (actual: FilterScalar) => actual !== null && f(actual);
  };

  switch (lookup) {
    case 'exact':
      return (actual) => actual === wanted;
    case 'iexact':
      return present((actual) => lower(actual) === wantedLower);
    case 'contains':
      return present((actual) => text(actual).includes(wantedText));
    case 'icontains':
      return present((actual) => lower(actual).includes(wantedLower));
    case 'startswith':
      return present((actual) => text(actual).startsWith(wantedText));
    case 'istartswith':
      return present((actual) => lower(actual).startsWith(wantedLower));
    case 'endswith':
      return present((actual) => text(actual).endsWith(wantedText));
    case 'iendswith':
      return present((actual) => lower(actual).endsWith(wantedLower));
    case 'in': {
      const set = new Set(expected as FilterScalar[]);
      return (actual) => set.has(actual);
    }
    case 'gt':
      return present((actual) => wanted !== null && actual > wanted);
    case 'gte':
      return present((actual) => wanted !== null && actual >= wanted);
    case 'lt':
      return present((actual) => wanted !== null && actual < wanted);
    case 'lte':
      return present((actual) => wanted !== null && actual <= wanted);
    default:
      // isnull
      return (actual) => (actual === null) === wanted;
  }
}

function parseOrdering<Row>(
  spec: string,
  queryable: Queryable<Row>,
): Ordering<Row> {
  const descending = spec.startsWith('-');
  const name = descending ? spec.slice(1) : spec;
  const bits = name.split('__');

  if (!queryable.fields.has(bits[0])) {
    throw ApiError.badRequest(`No field '${name}' to order by.`);
  }
  const field = queryable.orderable.has(name)
    ? queryable.field(bits)
    : undefined;
  if (!field) {
    throw ApiError.badRequest(`The '${name}' field does not allow ordering.`);
  }
  return { descending, read: field.read };
}

function compareBy<Row>(ordering: Ordering<Row>[]) {
  return (a: Row, b: Row): number => {
    for (const { descending, read } of ordering) {
      const order = compareValues(
        read(a) as FilterScalar,
        read(b) as FilterScalar,
      );
      if (order !== 0) return descending ? -order : order;
    }
    return 0;
  };
}

/** Nulls sort last ascending (first descending), as in PostgreSQL. */
function compareValues(a: FilterScalar, b: FilterScalar): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}
