import { parseUuiData, tagForUui, UuiDataError } from './uui-data';

const hex = (text: string) => Buffer.from(text, 'latin1').toString('hex');
const rules = {
  allowedHosts: [],
  tagUrlTemplate:
    'https://{host}.gov.bc.ca/idcheck/protected/video/{video_call_id}',
};

describe('parseUuiData', () => {
  it('decodes the documented example into host and video call id', () => {
    const parts = parseUuiData(
      '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex',
    );

    expect(parts).toEqual({ host: 'id', videoCallId: 'MTIzNDU2LDc2NTQzMg' });
    expect(tagForUui(parts, rules)).toBe(
      'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg',
    );
  });

  it('accepts upper-case hex digits and no parameters', () => {
    expect(parseUuiData(hex('id&abc').toUpperCase())).toEqual({
      host: 'id',
      videoCallId: 'abc',
    });
  });

  it('ignores parameters other than encoding', () => {
    expect(
      parseUuiData(`${hex('dev-2&QUJD_-')};purpose=isdn-uui;encoding=HEX`),
    ).toEqual({ host: 'dev-2', videoCallId: 'QUJD_-' });
  });

  it('keeps base64 padding in the video call id', () => {
    expect(parseUuiData(hex('id&MTIzNA==')).videoCallId).toBe('MTIzNA==');
  });

  it.each([
    ['an empty value', ''],
    ['only parameters', ';encoding=hex'],
    ['a non-hex payload', 'zz12;encoding=hex'],
    ['an odd number of digits', `${hex('id&abc')}0`],
    ['another encoding', `${hex('id&abc')};encoding=ascii`],
    ['no ampersand', hex('idabc')],
    ['an empty host', hex('&abc')],
    ['an empty video call id', hex('id&')],
    ['an upper-case host', hex('ID&abc')],
    ['a host with a dot', hex('id.evil&abc')],
    ['a host longer than 63', hex(`${'a'.repeat(64)}&abc`)],
    ['a host that is only a hyphen', hex('-&abc')],
    ['a host ending in a hyphen', hex('id-&abc')],
    ['a video call id with a slash-dot path', hex('id&../../x')],
    ['a video call id with a query', hex('id&abc?x=1')],
    ['a second ampersand', hex('id&abc&def')],
    ['a control character', hex('id&ab\ncd')],
    ['non-ASCII bytes', 'ff26616263'],
  ])('refuses %s', (_case, value) => {
    expect(() => parseUuiData(value)).toThrow(UuiDataError);
  });
});

describe('tagForUui', () => {
  it('refuses a host outside the allow-list', () => {
    expect(() =>
      tagForUui(
        { host: 'evil', videoCallId: 'abc' },
        { ...rules, allowedHosts: ['id', 'idtest'] },
      ),
    ).toThrow('uuiData host "evil" is not an allowed host');
  });

  it('accepts a host on the allow-list', () => {
    expect(
      tagForUui(
        { host: 'idtest', videoCallId: 'abc' },
        { ...rules, allowedHosts: ['id', 'idtest'] },
      ),
    ).toBe('https://idtest.gov.bc.ca/idcheck/protected/video/abc');
  });

  it('refuses a tag longer than 250 characters', () => {
    expect(() =>
      tagForUui({ host: 'id', videoCallId: 'a'.repeat(250) }, rules),
    ).toThrow(/at most 250 fit/);
  });
});
