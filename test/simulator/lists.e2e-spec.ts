import { startTestSimulator, TestSimulator } from '../support/simulator';

const CONFERENCES = '/api/admin/configuration/v1/conference/';
const ROOM_COUNT = 45;

describe('Pexip simulator: lists, pagination and filters over HTTP', () => {
  let pexip: TestSimulator;

  const names = async (query: string) => {
    const page = await pexip.api('GET', `${CONFERENCES}?${query}`);
    expect(page.status).toBe(200);
    return page.body.objects.map((room: any) => room.name);
  };

  beforeAll(async () => {
    pexip = await startTestSimulator({ maxLimit: 30 });
    for (let n = 0; n < ROOM_COUNT; n += 1) {
      const created = await pexip.api('POST', CONFERENCES, {
        name: `room-${String(n).padStart(2, '0')}`,
        service_type: n % 3 === 0 ? 'lecture' : 'conference',
        tag: n % 2 === 0 ? `even/${n}` : `odd/${n}`,
        description: n === 7 ? 'The Lucky Room' : '',
        aliases: [{ alias: `alias-${n}@example.com` }],
      });
      expect(created.status).toBe(201);
    }
  });

  afterAll(() => pexip.close());

  describe('pagination', () => {
    it('answers 20 objects and the meta of the first page by default', async () => {
      const page = await pexip.api('GET', CONFERENCES);

      expect(page.body.meta).toEqual({
        limit: 20,
        next: `${CONFERENCES}?limit=20&offset=20`,
        offset: 0,
        previous: null,
        total_count: ROOM_COUNT,
      });
      expect(page.body.objects).toHaveLength(20);
    });

    it('reaches every room exactly once by following next to the end', async () => {
      const seen: string[] = [];
      let next: string | null = `${CONFERENCES}?limit=7`;
      let pages = 0;

      while (next) {
        const page: any = await pexip.api('GET', next);
        seen.push(...page.body.objects.map((room: any) => room.name));
        next = page.body.meta.next;
        pages += 1;
      }

      expect(pages).toBe(7);
      expect(seen).toEqual(
        Array.from(
          { length: ROOM_COUNT },
          (_, n) => `room-${String(n).padStart(2, '0')}`,
        ),
      );
    });

    it('links back with previous', async () => {
      const page = await pexip.api('GET', `${CONFERENCES}?limit=10&offset=20`);

      expect(page.body.meta.previous).toBe(`${CONFERENCES}?limit=10&offset=10`);
    });

    it('reads limit=0 as the largest page the server allows', async () => {
      const page = await pexip.api('GET', `${CONFERENCES}?limit=0`);

      expect(page.body.meta.limit).toBe(30);
      expect(page.body.objects).toHaveLength(30);
    });

    it('caps a larger limit silently', async () => {
      const page = await pexip.api('GET', `${CONFERENCES}?limit=1000`);

      expect(page.body.meta).toMatchObject({
        limit: 30,
        next: `${CONFERENCES}?limit=30&offset=30`,
      });
    });

    it('answers an empty page past the end', async () => {
      const page = await pexip.api('GET', `${CONFERENCES}?offset=100`);

      expect(page.body.objects).toEqual([]);
      expect(page.body.meta.next).toBeNull();
    });

    it.each([
      [
        'limit=abc',
        "Invalid limit 'abc' provided: give a whole number, 0 or more.",
      ],
      [
        'limit=-5',
        "Invalid limit '-5' provided: give a whole number, 0 or more.",
      ],
      [
        'offset=x',
        "Invalid offset 'x' provided: give a whole number, 0 or more.",
      ],
    ])('answers %s with 400 {"error": …}', async (query, message) => {
      const page = await pexip.api('GET', `${CONFERENCES}?${query}`);

      expect(page.status).toBe(400);
      expect(page.body).toEqual({ error: message });
    });

    it('keeps the filters in the next link', async () => {
      const page = await pexip.api(
        'GET',
        `${CONFERENCES}?tag__startswith=even%2F&limit=5`,
      );

      expect(page.body.meta).toMatchObject({
        total_count: 23,
        next: `${CONFERENCES}?tag__startswith=even%2F&limit=5&offset=5`,
      });
    });
  });

  describe('filters', () => {
    it.each([
      ['name=room-07', ['room-07']],
      ['name=ROOM-07', []],
      [
        'name__startswith=room-4',
        ['room-40', 'room-41', 'room-42', 'room-43', 'room-44'],
      ],
      ['name__istartswith=ROOM-4&limit=2', ['room-40', 'room-41']],
      ['name__icontains=M-1&limit=3', ['room-10', 'room-11', 'room-12']],
      ['tag=odd%2F9', ['room-09']],
      ['tag__startswith=odd%2F1&limit=3', ['room-01', 'room-11', 'room-13']],
      ['service_type=lecture&limit=3', ['room-00', 'room-03', 'room-06']],
      ['service_type__in=lecture,test_call&limit=2', ['room-00', 'room-03']],
      ['description__icontains=lucky', ['room-07']],
      ['aliases__alias=alias-12%40example.com', ['room-12']],
      ['aliases__alias__startswith=alias-3&limit=2', ['room-03', 'room-30']],
      ['order_by=-name&limit=2', ['room-44', 'room-43']],
      ['no_such_param=1&limit=2', ['room-00', 'room-01']],
    ])('%s selects %j', async (query, expected) => {
      expect(await names(query)).toEqual(expected);
    });

    it('filters aliases by alias text', async () => {
      const page = await pexip.api(
        'GET',
        '/api/admin/configuration/v1/conference_alias/?alias=alias-5%40example.com',
      );

      expect(page.body.objects).toEqual([
        expect.objectContaining({
          alias: 'alias-5@example.com',
          conference: `${CONFERENCES}6/`,
        }),
      ]);
    });

    it.each([
      ['order_by=pin_colour', "No field 'pin_colour' to order by."],
      ['order_by=aliases', "The 'aliases' field does not allow ordering."],
      [
        'guests_can_present=true',
        "The 'guests_can_present' field does not allow filtering.",
      ],
      [
        'participant_limit=lots',
        "Invalid value 'lots' for filter 'participant_limit'.",
      ],
    ])('answers %s with 400 {"error": …}', async (query, message) => {
      const page = await pexip.api('GET', `${CONFERENCES}?${query}`);

      expect(page.status).toBe(400);
      expect(page.body).toEqual({ error: message });
    });
  });
});
