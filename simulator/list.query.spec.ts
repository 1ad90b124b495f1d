import { ApiError } from './api-answer';
import {
  envelopeJson,
  listMeta,
  parseListRequest,
  Queryable,
  selectPage,
} from './list.query';

interface Item {
  id: number;
  name: string | null;
  size: number;
}

const items: Queryable<Item> = {
  fields: new Set(['id', 'name', 'size', 'secret']),
  filterable: new Set(['id', 'name', 'size']),
  orderable: new Set(['name', 'size']),
  field: ([name, ...rest]) => {
    if (rest.length > 0) return undefined;
    if (name === 'name') return { kind: 'string', read: (item) => item.name };
    if (name === 'size') return { kind: 'integer', read: (item) => item.size };
    if (name === 'id') return { kind: 'integer', read: (item) => item.id };
    return undefined;
  },
};

const ROWS: Item[] = [
  { id: 1, name: 'b', size: 3 },
  { id: 2, name: null, size: 1 },
  { id: 3, name: 'a', size: 2 },
];

const parse = (query: string, maxLimit = 1000) =>
  parseListRequest(new URLSearchParams(query), items, 20, maxLimit);

function refusal(query: string): unknown {
  try {
    parse(query);
  } catch (error) {
    return (error as ApiError).body;
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('list queries', () => {
  describe('paging', () => {
    it.each([
      ['', 20, 0],
      ['limit=5&offset=10', 5, 10],
      ['limit=0', 1000, 0],
      ['limit=5000', 1000, 0],
    ])('reads "%s" as limit %d offset %d', (query, limit, offset) => {
      expect(parse(query)).toMatchObject({ limit, offset });
    });

    it('caps the default page at a smaller maximum', () => {
      expect(parse('', 10).limit).toBe(10);
    });

    it.each([
      [
        'limit=ten',
        "Invalid limit 'ten' provided: give a whole number, 0 or more.",
      ],
      [
        'limit=-1',
        "Invalid limit '-1' provided: give a whole number, 0 or more.",
      ],
      [
        'offset=1.5',
        "Invalid offset '1.5' provided: give a whole number, 0 or more.",
      ],
    ])('refuses %s', (query, message) => {
      expect(refusal(query)).toEqual({ error: message });
    });
  });

  describe('filters', () => {
    const ids = (query: string) =>
      selectPage(ROWS, parse(query)).rows.map((item) => item.id);

    it.each([
      ['name=a', [3]],
      ['name=None', [2]],
      ['name__isnull=true', [2]],
      ['name__in=a,b', [1, 3]],
      ['name__iexact=B', [1]],
      ['size__gte=2', [1, 3]],
      ['size__lt=2', [2]],
      ['unknown=1&format=json', [1, 2, 3]],
      ['order_by=size', [2, 3, 1]],
      ['order_by=-name', [2, 1, 3]],
    ])('%s selects %j', (query, expected) => {
      expect(ids(query)).toEqual(expected);
    });

    it.each([
      ['secret=x', "The 'secret' field does not allow filtering."],
      ['name__regex=x', "Filtering on 'name__regex' is not supported."],
      ['size=big', "Invalid value 'big' for filter 'size'."],
      ['order_by=colour', "No field 'colour' to order by."],
      ['order_by=id', "The 'id' field does not allow ordering."],
    ])('refuses %s', (query, message) => {
      expect(refusal(query)).toEqual({ error: message });
    });
  });

  describe('envelope', () => {
    const envelope = (query: string, offset: number, limit: number) =>
      listMeta('/api/things/', new URLSearchParams(query), {
        limit,
        offset,
        total: 45,
      });

    it('links the pages, keeping other parameters and putting paging last', () => {
      expect(envelope('limit=20&name=a b&offset=20', 20, 20)).toEqual({
        limit: 20,
        next: '/api/things/?name=a+b&limit=20&offset=40',
        offset: 20,
        previous: '/api/things/?name=a+b&limit=20&offset=0',
        total_count: 45,
      });
    });

    it('has no next on the last page and no previous on the first', () => {
      expect(envelope('', 40, 20)).toMatchObject({ next: null });
      expect(envelope('', 0, 20)).toMatchObject({ previous: null });
    });

    it('has no previous when a whole page back would start before 0', () => {
      expect(envelope('', 10, 20).previous).toBeNull();
    });

    it('wraps serialized objects after the meta', () => {
      const meta = envelope('', 0, 20);

      expect(JSON.parse(envelopeJson(meta, ['{"a":1}', '{"b":2}']))).toEqual({
        meta,
        objects: [{ a: 1 }, { b: 2 }],
      });
    });
  });
});
