import { useScriptedPexip } from '../../test/pexip/support/pexip-adapter.harness';
import {
  conference,
  Handler,
  inOrder,
  listBody,
  ReceivedRequest,
  Reply,
} from '../../test/pexip/support/scripted-pexip.server';
import {
  PexipNotFoundError,
  PexipQueueTimeoutError,
  PexipRejectedError,
  PexipTimeoutError,
  PexipUnavailableError,
} from './pexip.errors';
import { idFromLocation, nextPageParams } from './pexip.service';
import {
  AUTOMATIC_PARTICIPANT_PATH,
  CONFERENCE_PATH,
  conferenceUri,
  NewPexipConference,
  STATUS_CONFERENCE_PATH,
} from './pexip.types';

const rig = useScriptedPexip();
const start = async (env: Record<string, string> = {}) =>
  (await rig.start(env)).pexip;

const calls = (requests: ReceivedRequest[]) =>
  requests.map((request) => `${request.method} ${request.path}`);

/** Routes by method: POST, GET and the rest each get their own handler. */
function byMethod(handlers: {
  POST?: Handler;
  GET?: Handler;
  other?: Handler;
}): Handler {
  const fallback = (): Reply => ({ status: 500 });
  return (request) =>
    (handlers[request.method as 'POST' | 'GET'] ?? handlers.other ?? fallback)(
      request,
    );
}

const ROOM: NewPexipConference = {
  name: 'kQ3vN0b1c2d3e4f5g6h7iA',
  service_type: 'conference',
  allow_guests: true,
  pin: '123456',
  guest_pin: '4821',
  tag: '',
  aliases: [{ alias: 'kQ3vN0b1c2d3e4f5g6h7iA' }],
};
const CREATED = {
  status: 201,
  headers: { Location: `${CONFERENCE_PATH}90/` },
} as const;
const FOUND = { status: 200, body: listBody([conference(90, ROOM.name)]) };
const NOT_FOUND = { status: 200, body: listBody([]) };

describe('findConferenceByName', () => {
  it.each(['../x', 'a/b?c', 'a&tag=x', '%2F', 'ü #+', '..'])(
    'passes the name %p as an encoded query value that cannot change the path',
    async (name) => {
      const pexip = await start();
      rig.server.reply(() => ({
        status: 200,
        body: listBody([conference(7, name)]),
      }));

      const found = await pexip.findConferenceByName(name);

      const [request] = rig.server.requests;
      expect(request.path).toBe(CONFERENCE_PATH);
      expect([...request.query.entries()]).toEqual([['name', name]]);
      expect(found?.id).toBe(7);
    },
  );

  it('answers null when no conference has the name', async () => {
    const pexip = await start();
    rig.server.reply(() => NOT_FOUND);

    expect(await pexip.findConferenceByName('nobody')).toBeNull();
  });

  it('answers null when Pexip matches the name only loosely', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 200,
      body: listBody([conference(7, 'ROOM')]),
    }));

    expect(await pexip.findConferenceByName('room')).toBeNull();
  });
});

describe('getConference', () => {
  it('answers the conference with every field Pexip sent', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 200,
      body: conference(42, 'room', { field_from_a_newer_pexip: { a: 1 } }),
    }));

    const found = await pexip.getConference(42);

    expect(rig.server.requests[0].url).toBe(conferenceUri(42));
    expect(found).toEqual(
      conference(42, 'room', { field_from_a_newer_pexip: { a: 1 } }),
    );
  });

  it('answers null on 404', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 404 }));

    expect(await pexip.getConference(42)).toBeNull();
  });

  it('fails with PexipUnavailableError on a 500', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 500,
      body: { error_message: 'Sorry.' },
    }));

    await expect(pexip.getConference(42)).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 500,
      message: 'Pexip answered 500 to GET conference 42: Sorry.',
    });
  });

  it('fails with PexipUnavailableError when the body is not a conference', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 200, body: '<html>proxy</html>' }));

    await expect(pexip.getConference(42)).rejects.toThrow(
      PexipUnavailableError,
    );
  });
});

describe('listConferencePages', () => {
  it('follows meta.next to the last page, relative or absolute', async () => {
    const pexip = await start();
    rig.server.reply((request) => {
      const offset = Number(request.query.get('offset') ?? 0);
      const pages: Record<number, Reply> = {
        0: {
          status: 200,
          body: listBody(
            [conference(1, 'a'), conference(2, 'b')],
            `${CONFERENCE_PATH}?limit=2&name__startswith=x&offset=2`,
          ),
        },
        2: {
          status: 200,
          body: listBody(
            [conference(3, 'c'), conference(4, 'd')],
            `https://mgr.example.org${CONFERENCE_PATH}?limit=2&name__startswith=x&offset=4`,
          ),
        },
        4: { status: 200, body: listBody([conference(5, 'e')]) },
      };
      return pages[offset];
    });

    const pages: number[][] = [];
    for await (const page of pexip.listConferencePages(
      { namePrefix: 'x' },
      2,
    )) {
      pages.push(page.map((room) => room.id));
    }

    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
    expect(rig.server.requests.map((request) => request.url)).toEqual([
      `${CONFERENCE_PATH}?limit=2&name__startswith=x`,
      `${CONFERENCE_PATH}?limit=2&name__startswith=x&offset=2`,
      `${CONFERENCE_PATH}?limit=2&name__startswith=x&offset=4`,
    ]);
  });

  it('asks for 1000 per page and sends each filter under its Pexip name', async () => {
    const pexip = await start();
    rig.server.reply(() => NOT_FOUND);

    for await (const page of pexip.listConferencePages({
      name: 'n',
      namePrefix: 'p',
      tag: 't&u',
    })) {
      expect(page).toEqual([]);
    }

    expect(Object.fromEntries(rig.server.requests[0].query)).toEqual({
      limit: '1000',
      name: 'n',
      name__startswith: 'p',
      tag: 't&u',
    });
  });

  it('fetches no further page once the caller stops', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 200,
      body: listBody([conference(1, 'a')], `${CONFERENCE_PATH}?offset=1`),
    }));

    for await (const page of pexip.listConferencePages({})) {
      expect(page).toHaveLength(1);
      break;
    }

    expect(rig.server.requests).toHaveLength(1);
  });

  it('stops with PexipUnavailableError when a next link leads back', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 200,
      body: listBody([conference(1, 'a')], `${CONFERENCE_PATH}?offset=1`),
    }));

    const walk = async () => {
      for await (const page of pexip.listConferencePages({})) {
        expect(page).toHaveLength(1);
      }
    };

    await expect(walk()).rejects.toThrow('links back to a page already read');
    expect(rig.server.requests).toHaveLength(2);
  });

  it('passes a 400 on a bad filter on as PexipRejectedError', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 400,
      body: { error: "The 'tag' field does not allow filtering." },
    }));

    const walk = async () => {
      for await (const page of pexip.listConferencePages({ tag: 'x' })) {
        expect(page).toBeDefined();
      }
    };

    await expect(walk()).rejects.toThrow(PexipRejectedError);
  });
});

describe('findConferencesByTag', () => {
  it('collects every page and keeps exact matches only', async () => {
    const pexip = await start();
    const tag = 'https://id.gov.bc.ca/idcheck/protected/video/MTIz';
    rig.server.reply(
      inOrder(
        {
          status: 200,
          body: listBody(
            [conference(1, 'a', { tag })],
            `${CONFERENCE_PATH}?offset=1`,
          ),
        },
        {
          status: 200,
          body: listBody([
            conference(2, 'b', { tag }),
            conference(3, 'c', { tag: tag.toUpperCase() }),
          ]),
        },
      ),
    );

    const rooms = await pexip.findConferencesByTag(tag);

    expect(rooms.map((room) => room.id)).toEqual([1, 2]);
    expect(rig.server.requests[0].query.get('tag')).toBe(tag);
  });
});

describe('createConference', () => {
  it('takes the id from a relative Location', async () => {
    const pexip = await start();
    rig.server.reply(() => CREATED);

    const created = await pexip.createConference(ROOM);

    expect(created).toEqual({ id: 90, adopted: false });
    expect(rig.server.requests[0].json).toEqual(ROOM);
  });

  it('takes the id from an absolute Location', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 201,
      headers: { Location: `https://mgr.example.org${CONFERENCE_PATH}91/` },
    }));

    expect(await pexip.createConference(ROOM)).toEqual({
      id: 91,
      adopted: false,
    });
  });

  it('looks the room up when the Location header is missing', async () => {
    const pexip = await start();
    rig.server.reply(
      byMethod({ POST: () => ({ status: 201 }), GET: () => FOUND }),
    );

    expect(await pexip.createConference(ROOM)).toEqual({
      id: 90,
      adopted: false,
    });
    expect(rig.server.requests[1].query.get('name')).toBe(ROOM.name);
  });

  it('adopts the room when Pexip answers 500 after creating it, with one POST', async () => {
    const pexip = await start();
    rig.server.reply(
      byMethod({
        POST: () => ({ status: 500, body: { error_message: 'Sorry.' } }),
        GET: () => FOUND,
      }),
    );

    const created = await pexip.createConference(ROOM);

    expect(created).toEqual({ id: 90, adopted: true });
    expect(calls(rig.server.requests)).toEqual([
      `POST ${CONFERENCE_PATH}`,
      `GET ${CONFERENCE_PATH}`,
    ]);
    expect(rig.logs.at('warn')).toEqual([
      expect.stringMatching(/^Adopted conference "kQ3v.*" \(id 90\)/),
    ]);
  });

  it('does not look the room up when the connection was refused, since the POST never left', async () => {
    const pexip = await start({ PEXIP_MAX_RETRIES: '1' });
    await rig.server.close();

    await expect(pexip.createConference(ROOM)).rejects.toBeInstanceOf(
      PexipUnavailableError,
    );
    expect(rig.logs.at('error')).toEqual([]);
    expect(rig.logs.at('warn')).toEqual([
      expect.stringMatching(/before reaching Pexip; posting it again/),
    ]);
  });

  it('posts again after a timeout when the room is not there', async () => {
    // A budget of 1.5 s leaves room for the look-up and a second POST.
    const pexip = await start({ PEXIP_TIMEOUT_MS: '1000' });
    rig.server.reply(
      byMethod({ POST: inOrder('hang', CREATED), GET: () => NOT_FOUND }),
    );

    const created = await pexip.createConference(ROOM);

    expect(created).toEqual({ id: 90, adopted: false });
    expect(calls(rig.server.requests)).toEqual([
      `POST ${CONFERENCE_PATH}`,
      `GET ${CONFERENCE_PATH}`,
      `POST ${CONFERENCE_PATH}`,
    ]);
  });

  it('adopts the room after a timeout when the room is there', async () => {
    const pexip = await start({ PEXIP_TIMEOUT_MS: '300' });
    rig.server.reply(byMethod({ POST: () => 'hang', GET: () => FOUND }));

    expect(await pexip.createConference(ROOM)).toEqual({
      id: 90,
      adopted: true,
    });
    expect(rig.server.requests).toHaveLength(2);
  });

  it('adopts the room after a reset connection when the room is there', async () => {
    const pexip = await start();
    rig.server.reply(byMethod({ POST: () => 'reset', GET: () => FOUND }));

    expect(await pexip.createConference(ROOM)).toEqual({
      id: 90,
      adopted: true,
    });
  });

  it('adopts the room when Pexip says its name already exists', async () => {
    const pexip = await start();
    rig.server.reply(
      byMethod({
        POST: () => ({
          status: 400,
          body: {
            conference: {
              name: ['Virtual Meeting Room with this Name already exists.'],
            },
          },
        }),
        GET: () => FOUND,
      }),
    );

    expect(await pexip.createConference(ROOM)).toEqual({
      id: 90,
      adopted: true,
    });
  });

  it('fails with PexipRejectedError on any other 400, posting once', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 400,
      body: { conference: { guest_pin: ['Must differ from the host PIN.'] } },
    }));

    const failure = pexip.createConference(ROOM);

    await expect(failure).rejects.toThrow(PexipRejectedError);
    await expect(failure).rejects.toMatchObject({
      fieldErrors: { guest_pin: ['Must differ from the host PIN.'] },
    });
    expect(calls(rig.server.requests)).toEqual([`POST ${CONFERENCE_PATH}`]);
  });

  it('gives up after PEXIP_MAX_RETRIES posts that fail and leave no room', async () => {
    const pexip = await start({ PEXIP_MAX_RETRIES: '2' });
    rig.server.reply(
      byMethod({ POST: () => ({ status: 503 }), GET: () => NOT_FOUND }),
    );

    await expect(pexip.createConference(ROOM)).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 503,
    });
    expect(calls(rig.server.requests)).toEqual([
      `POST ${CONFERENCE_PATH}`,
      `GET ${CONFERENCE_PATH}`,
      `POST ${CONFERENCE_PATH}`,
      `GET ${CONFERENCE_PATH}`,
      `POST ${CONFERENCE_PATH}`,
      `GET ${CONFERENCE_PATH}`,
    ]);
  });

  it('says the room may exist when the look-up after a failed POST fails too', async () => {
    const pexip = await start({ PEXIP_MAX_RETRIES: '0' });
    rig.server.reply(() => ({ status: 500 }));

    await expect(pexip.createConference(ROOM)).rejects.toThrow(
      /may or may not have taken effect/,
    );
  });

  it('does not look for a room whose POST never left the queue', async () => {
    const pexip = await start({
      PEXIP_MAX_CONCURRENCY: '1',
      PEXIP_MAX_RETRIES: '0',
      PEXIP_TIMEOUT_MS: '300',
    });
    rig.server.reply(() => 'hang');

    const [, , create] = await Promise.allSettled([
      pexip.getConference(1),
      pexip.getConference(2),
      pexip.createConference(ROOM),
    ]);

    expect((create as PromiseRejectedResult).reason).toBeInstanceOf(
      PexipQueueTimeoutError,
    );
    // Neither the POST nor a look-up of its name reached Pexip.
    expect(
      rig.server.requests.filter((request) => request.path === CONFERENCE_PATH),
    ).toEqual([]);
  });

  it('settles within 3 × PEXIP_TIMEOUT_MS when Pexip hangs', async () => {
    const pexip = await start({ PEXIP_TIMEOUT_MS: '300' });
    rig.server.reply(() => 'hang');
    const started = Date.now();

    await expect(pexip.createConference(ROOM)).rejects.toThrow(
      PexipTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(900 + 500);
  });
});

describe('updateConference', () => {
  it('sends the patch to the conference and accepts 202', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 202 }));

    await pexip.updateConference(42, { tag: 'x', participant_limit: null });

    expect(calls(rig.server.requests)).toEqual([`PATCH ${conferenceUri(42)}`]);
    expect(rig.server.requests[0].json).toEqual({
      tag: 'x',
      participant_limit: null,
    });
  });

  it('fails with PexipNotFoundError on 404', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 404 }));

    await expect(pexip.updateConference(42, { tag: 'x' })).rejects.toThrow(
      PexipNotFoundError,
    );
  });

  it("fails with PexipRejectedError carrying Pexip's field messages on 400", async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 400,
      body: { conference: { max_callrate_in: ['Must be at least 128.'] } },
    }));

    await expect(
      pexip.updateConference(42, { max_callrate_in: 1 }),
    ).rejects.toMatchObject({
      name: 'PexipRejectedError',
      fieldErrors: { max_callrate_in: ['Must be at least 128.'] },
    });
  });
});

describe('deleteConference', () => {
  it('answers true on 204', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 204 }));

    expect(await pexip.deleteConference(42)).toBe(true);
    expect(calls(rig.server.requests)).toEqual([`DELETE ${conferenceUri(42)}`]);
  });

  it('answers false when the conference is already gone', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 404 }));

    expect(await pexip.deleteConference(42)).toBe(false);
  });

  it('answers false when a retried DELETE finds the conference gone', async () => {
    const pexip = await start();
    rig.server.reply(inOrder({ status: 503 }, { status: 404 }));

    expect(await pexip.deleteConference(42)).toBe(false);
    expect(rig.server.requests).toHaveLength(2);
  });
});

describe('createAutomaticParticipant', () => {
  const PARTICIPANT = {
    alias: 'sip:queue@contact.example.org',
    conference: [conferenceUri(90)],
    protocol: 'sip' as const,
    role: 'guest' as const,
    remote_display_name: ROOM.name,
  };

  it('answers the id from the Location header', async () => {
    const pexip = await start();
    rig.server.reply(() => ({
      status: 201,
      headers: { Location: `${AUTOMATIC_PARTICIPANT_PATH}9/` },
    }));

    expect(await pexip.createAutomaticParticipant(PARTICIPANT)).toBe(9);
    expect(rig.server.requests[0].path).toBe(AUTOMATIC_PARTICIPANT_PATH);
    expect(rig.server.requests[0].json).toEqual(PARTICIPANT);
  });

  it('adopts the participant of this conference after a 500, by alias and conference', async () => {
    const pexip = await start();
    rig.server.reply(
      byMethod({
        POST: () => ({ status: 500 }),
        GET: () => ({
          status: 200,
          body: listBody([
            {
              id: 5,
              alias: PARTICIPANT.alias,
              conference: [conferenceUri(89)],
            },
            {
              id: 6,
              alias: PARTICIPANT.alias,
              conference: [`https://mgr.example.org${conferenceUri(90)}`],
            },
          ]),
        }),
      }),
    );

    expect(await pexip.createAutomaticParticipant(PARTICIPANT)).toBe(6);
    expect(rig.server.requests[1].path).toBe(AUTOMATIC_PARTICIPANT_PATH);
    expect(rig.server.requests[1].query.get('alias')).toBe(PARTICIPANT.alias);
  });

  it('posts again when only other conferences have such a participant', async () => {
    const pexip = await start();
    rig.server.reply(
      byMethod({
        POST: inOrder(
          { status: 502 },
          {
            status: 201,
            headers: { Location: `${AUTOMATIC_PARTICIPANT_PATH}7/` },
          },
        ),
        GET: () => ({
          status: 200,
          body: listBody([
            {
              id: 5,
              alias: PARTICIPANT.alias,
              conference: [conferenceUri(89)],
            },
          ]),
        }),
      }),
    );

    expect(await pexip.createAutomaticParticipant(PARTICIPANT)).toBe(7);
    expect(calls(rig.server.requests)).toEqual([
      `POST ${AUTOMATIC_PARTICIPANT_PATH}`,
      `GET ${AUTOMATIC_PARTICIPANT_PATH}`,
      `POST ${AUTOMATIC_PARTICIPANT_PATH}`,
    ]);
  });
});

describe('listActiveConferenceNames', () => {
  it('answers each running conference once, from every page of the status API', async () => {
    const pexip = await start();
    rig.server.reply(
      inOrder(
        {
          status: 200,
          body: listBody(
            [
              { id: 'u1', name: 'a' },
              { id: 'u2', name: 'b' },
            ],
            `${STATUS_CONFERENCE_PATH}?offset=2`,
          ),
        },
        { status: 200, body: listBody([{ id: 'u3', name: 'a' }]) },
      ),
    );

    expect(await pexip.listActiveConferenceNames()).toEqual(['a', 'b']);
    expect(rig.server.requests.map((request) => request.path)).toEqual([
      STATUS_CONFERENCE_PATH,
      STATUS_CONFERENCE_PATH,
    ]);
  });
});

describe('ping', () => {
  it('asks for one conference and succeeds on 200', async () => {
    const pexip = await start();
    rig.server.reply(() => NOT_FOUND);

    await pexip.ping();

    expect(rig.server.requests[0].url).toBe(`${CONFERENCE_PATH}?limit=1`);
  });

  it('fails at once with the status when Pexip is unhealthy, without retrying', async () => {
    const pexip = await start();
    rig.server.reply(() => ({ status: 503 }));

    await expect(pexip.ping()).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 503,
    });
    expect(rig.server.requests).toHaveLength(1);
  });

  it('fails with PexipTimeoutError when Pexip does not answer', async () => {
    const pexip = await start({ PEXIP_TIMEOUT_MS: '200' });
    rig.server.reply(() => 'hang');

    await expect(pexip.ping()).rejects.toThrow(PexipTimeoutError);
  });

  it('fails with PexipUnavailableError when nothing listens', async () => {
    const pexip = await start();
    await rig.server.close();

    await expect(pexip.ping()).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: undefined,
    });
  });
});

describe('idFromLocation', () => {
  it.each([
    [`${CONFERENCE_PATH}42/`, 42],
    [`${CONFERENCE_PATH}42`, 42],
    [`https://mgr.example.org${CONFERENCE_PATH}42/`, 42],
    [`https://mgr.example.org/prefix${CONFERENCE_PATH}42/`, 42],
  ])('reads %s as %i', (location, id) => {
    expect(idFromLocation(location, CONFERENCE_PATH)).toBe(id);
  });

  it.each([
    undefined,
    '',
    `${AUTOMATIC_PARTICIPANT_PATH}42/`,
    `${CONFERENCE_PATH}`,
    `${CONFERENCE_PATH}0/`,
    `${CONFERENCE_PATH}abc/`,
  ])('finds no id in %p', (location) => {
    expect(idFromLocation(location, CONFERENCE_PATH)).toBeUndefined();
  });
});

describe('nextPageParams', () => {
  it('keeps the query of a link to the same list', () => {
    expect(
      nextPageParams(
        `${CONFERENCE_PATH}?limit=2&offset=2`,
        CONFERENCE_PATH,
      )?.toString(),
    ).toBe('limit=2&offset=2');
  });

  it('ends the walk on a null link', () => {
    expect(nextPageParams(null, CONFERENCE_PATH)).toBeUndefined();
  });

  it('refuses a link to another path', () => {
    expect(() =>
      nextPageParams(
        '/api/admin/configuration/v1/conference/1/?x',
        CONFERENCE_PATH,
      ),
    ).toThrow(PexipUnavailableError);
  });
});
