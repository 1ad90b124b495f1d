import type { AuthenticatedRequest } from './authenticated-client';
import { clientKey } from './client-key';

describe('clientKey', () => {
  it('counts a caller with a verified token by its subject', () => {
    const request = {
      ip: '10.0.0.7',
      user: { sub: 'idim-prod', roles: [], clientId: undefined, claims: {} },
    } as unknown as AuthenticatedRequest;

    expect(clientKey(request)).toBe('sub:idim-prod');
  });

  it('counts any other caller by its address', () => {
    const request = { ip: '10.0.0.7' } as unknown as AuthenticatedRequest;

    expect(clientKey(request)).toBe('ip:10.0.0.7');
  });
});
