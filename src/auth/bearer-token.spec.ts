import { readBearerToken } from './bearer-token';

describe('readBearerToken', () => {
  it.each([
    ['Bearer eyJ.a-b_c.d~e+f/g=', 'eyJ.a-b_c.d~e+f/g='],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
  ])('reads the token from %j', (header, token) => {
    expect(readBearerToken(header)).toEqual({ kind: 'token', token });
  });

  it.each([undefined, '', 'Basic dXNlcjpwYXNz', 'Negotiate abc', 'abc'])(
    'treats %j as no bearer token at all',
    (header) => {
      expect(readBearerToken(header)).toEqual({ kind: 'absent' });
    },
  );

  it.each(['Bearer', 'Bearer ', 'Bearer a b', 'Bearer "abc"', 'Bearer ab=c'])(
    'calls %j malformed',
    (header) => {
      expect(readBearerToken(header)).toEqual({ kind: 'malformed' });
    },
  );
});
