import {
  basicChallenge,
  bearerChallenge,
  genesysChallenge,
} from './www-authenticate';

describe('WWW-Authenticate challenges', () => {
  it('leaves the error out of a bearer challenge to a client that sent no token', () => {
    expect(bearerChallenge()).toBe('Bearer realm="maxconf"');
  });

  it('names the error and its description', () => {
    expect(bearerChallenge('invalid_token', 'The token has expired.')).toBe(
      'Bearer realm="maxconf", error="invalid_token", error_description="The token has expired."',
    );
  });

  it('replaces characters a quoted description may not hold', () => {
    expect(bearerChallenge('invalid_token', 'a "b" \\ c\né')).toBe(
      'Bearer realm="maxconf", error="invalid_token", error_description="a ?b? ? c??"',
    );
  });

  it('announces UTF-8 in the Basic challenge', () => {
    expect(basicChallenge()).toBe(
      'Basic realm="maxconf-event-sink", charset="UTF-8"',
    );
  });

  it('names the header of the Genesys token', () => {
    expect(genesysChallenge()).toBe(
      'Genesys realm="maxconf-public-room", header="x-auth-token"',
    );
  });
});
