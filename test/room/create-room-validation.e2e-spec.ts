import { RoomHarness, startRoomHarness } from './support/room.harness';
import { EXAMPLE_UUI, tagFor, uuiFor } from '../support/uui';
import { expectProblem } from '../support/problem';

/**
 * Every malformed uuiData is refused with 400 and a message naming it,
 * before anything reaches Pexip.
 */

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');
const LONG_ID = 'A'.repeat(
  251 - 'https://id.gov.bc.ca/idcheck/protected/video/'.length,
);

/** [behaviour, query string after `?`, message the problem must carry]. */
const REFUSED: [string, string, RegExp][] = [
  ['a missing uuiData', '', /^uuiData is required$/],
  ['an empty uuiData', 'uuiData=', /^uuiData must not be empty$/],
  [
    'a payload that is not hex',
    `uuiData=${hex('id&abc').replace(/^69/, 'zz')}`,
    /hex digits only/,
  ],
  ['a payload of odd length', `uuiData=${hex('id&abc')}0`, /odd number/],
  ['text without "&"', `uuiData=${hex('idabc')}`, /no "&"/],
  ['an empty host', `uuiData=${hex('&abc')}`, /non-empty/],
  ['an empty video call id', `uuiData=${hex('id&')}`, /non-empty/],
  ['a host in upper case', `uuiData=${hex('ID&abc')}`, /host must be/],
  ['a host with a dot', `uuiData=${hex('id.gov&abc')}`, /host must be/],
  [
    'a host longer than 63 characters',
    `uuiData=${hex(`${'a'.repeat(64)}&abc`)}`,
    /host must be/,
  ],
  ['a video call id with "$"', `uuiData=${hex('id&abc$def')}`, /base64/],
  ['a video call id with a space', `uuiData=${hex('id&abc def')}`, /base64/],
  [
    'a video call id with a second "&"',
    `uuiData=${hex('id&abc&def')}`,
    /base64/,
  ],
  ['a video call id with a dot', `uuiData=${hex('id&a.b')}`, /base64/],
  [
    'text that is not printable ASCII',
    `uuiData=${hex('id&ab\u00e9')}`,
    /printable ASCII/,
  ],
  [
    'encoding=base64',
    `uuiData=${hex('id&abc')}${encodeURIComponent(';encoding=base64')}`,
    /encoding/,
  ],
  [
    'an empty encoding',
    `uuiData=${hex('id&abc')}${encodeURIComponent(';encoding=')}`,
    /encoding/,
  ],
  [
    'a tag longer than 250 characters',
    `uuiData=${hex(`id&${LONG_ID}`)}`,
    /250/,
  ],
  [
    'uuiData given twice',
    `uuiData=${EXAMPLE_UUI}&uuiData=${EXAMPLE_UUI}`,
    /^uuiData must be given once$/,
  ],
  [
    'uuiData longer than 2,048 characters',
    `uuiData=${'61'.repeat(1025)}`,
    /^uuiData must be at most 2048 characters$/,
  ],
];

describe('POST /room/create refuses a bad uuiData', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ UUI_ALLOWED_HOSTS: 'id,idtest' });
    await rig.fillPool(1);
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.pexip.control.clearRequests());

  it.each(REFUSED)(
    'answers 400 for %s and sends nothing to Pexip',
    async (_behaviour, query, message) => {
      const answer = await rig.call('POST', `/room/create?${query}`);

      expectProblem(answer, 400);
      expect(answer.body.type).toBe('urn:maxconf:problem:validation');
      expect(answer.body.errors).toEqual({
        uuiData: [expect.stringMatching(message)],
      });
      expect(answer.body.detail).toContain(answer.body.errors.uuiData[0]);
      expect(await rig.pexip.control.requests()).toEqual([]);
      expect(await rig.poolState()).toMatchObject({
        available: 1,
        ripening: 0,
      });
    },
  );

  it('answers 400 for a host outside UUI_ALLOWED_HOSTS', async () => {
    const answer = await rig.create(uuiFor('other', 'abc'));

    expectProblem(answer, 400);
    expect(answer.body.errors).toEqual({
      uuiData: ['uuiData host "other" is not an allowed host'],
    });
    expect(await rig.pexip.control.requests()).toEqual([]);
  });

  it('accepts a host on the allow-list, and a tag of exactly 250 characters', async () => {
    const id = LONG_ID.slice(1);

    const answer = await rig.create(uuiFor('id', id));

    expect(answer.status).toBe(200);
    expect(answer.body.tag).toBe(tagFor('id', id));
    expect(answer.body.tag).toHaveLength(250);
  });

  it('accepts base64 padding and the base64url alphabet in the video call id', async () => {
    const answer = await rig.create(uuiFor('idtest', 'a-b_c+d/e=='));

    expect(answer.status).toBe(200);
    expect(answer.body.tag).toBe(tagFor('idtest', 'a-b_c+d/e=='));
  });
});
