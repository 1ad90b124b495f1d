import {
  GenesysServer,
  startGenesysServer,
} from '../../test/support/genesys-server';
import { loadConfig } from '../config/app-config';
import {
  GenesysDivisionNotAllowedError,
  GenesysTokenRejectedError,
  GenesysUnavailableError,
} from './auth.errors';
import { GenesysService } from './genesys.service';

describe('GenesysService', () => {
  let genesys: GenesysServer;

  const service = (env: Record<string, string> = {}) =>
    new GenesysService(
      loadConfig({
        NODE_ENV: 'test',
        GENESYS_API_URL: genesys.url,
        GENESYS_ALLOWED_DIVISIONS: 'sbc',
        GENESYS_TIMEOUT_MS: '2000',
        ...env,
      }),
    );

  beforeEach(async () => {
    genesys = await startGenesysServer();
    genesys.setUser('agent', { id: 'agent-7', divisionId: 'sbc' });
  });

  afterEach(async () => {
    genesys.up();
    await genesys.stop();
  });

  it('asks Genesys for the token owner and returns the user of an allowed division', async () => {
    const user = await service().authorize('agent');

    expect(user).toEqual({ id: 'agent-7', divisionId: 'sbc' });
    expect(genesys.lastAuthorization).toBe('Bearer agent');
  });

  it('shares one Genesys call between concurrent checks of a token and caches the answer', async () => {
    const genesysService = service();

    await Promise.all([
      genesysService.authorize('agent'),
      genesysService.authorize('agent'),
      genesysService.authorize('agent'),
    ]);
    await genesysService.authorize('agent');

    expect(genesys.callCount).toBe(1);
  });

  it('asks Genesys every time when caching is off', async () => {
    const genesysService = service({ GENESYS_CACHE_SECONDS: '0' });

    await genesysService.authorize('agent');
    await genesysService.authorize('agent');

    expect(genesys.callCount).toBe(2);
  });

  it('remembers a refused token for a while', async () => {
    const genesysService = service();

    for (let i = 0; i < 3; i += 1) {
      await expect(genesysService.authorize('stale')).rejects.toBeInstanceOf(
        GenesysTokenRejectedError,
      );
    }

    expect(genesys.callCount).toBe(1);
  });

  it.each([
    ['another division', { divisionId: 'elsewhere' }],
    ['no division', { divisionId: null }],
  ])('refuses a user with %s', async (_, answer) => {
    genesys.setUser('outsider', answer);

    await expect(service().authorize('outsider')).rejects.toBeInstanceOf(
      GenesysDivisionNotAllowedError,
    );
  });

  it('refuses every token without asking Genesys when no division is allowed', async () => {
    const genesysService = service({ GENESYS_ALLOWED_DIVISIONS: '' });

    await expect(genesysService.authorize('agent')).rejects.toBeInstanceOf(
      GenesysDivisionNotAllowedError,
    );
    expect(genesys.callCount).toBe(0);
  });

  it.each([
    ['a space', 'two words'],
    ['a non-ASCII letter', 'tökén'],
    ['nothing', ''],
  ])(
    'refuses a token containing %s without asking Genesys',
    async (_, token) => {
      await expect(service().authorize(token)).rejects.toBeInstanceOf(
        GenesysTokenRejectedError,
      );
      expect(genesys.callCount).toBe(0);
    },
  );

  it.each([500, 502, 429, 302, 404])(
    'reports Genesys as unavailable when it answers %i',
    async (status) => {
      genesys.setUser('odd', { status });

      await expect(service().authorize('odd')).rejects.toBeInstanceOf(
        GenesysUnavailableError,
      );
    },
  );

  it('reports Genesys as unavailable when the connection drops', async () => {
    genesys.down('reset');

    await expect(service().authorize('agent')).rejects.toBeInstanceOf(
      GenesysUnavailableError,
    );
  });

  it('gives up after the timeout when Genesys does not answer', async () => {
    genesys.down('hang');

    await expect(
      service({ GENESYS_TIMEOUT_MS: '200' }).authorize('agent'),
    ).rejects.toThrow(/ETIMEDOUT/);
  });

  it('does not cache a failure to reach Genesys', async () => {
    const genesysService = service();
    genesys.down('reset');
    await expect(genesysService.authorize('agent')).rejects.toBeInstanceOf(
      GenesysUnavailableError,
    );

    genesys.up();

    await expect(genesysService.authorize('agent')).resolves.toEqual({
      id: 'agent-7',
      divisionId: 'sbc',
    });
  });
});
