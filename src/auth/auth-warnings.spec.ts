import { loadConfig } from '../config/app-config';
import { authWarnings } from './auth-warnings';

describe('authWarnings', () => {
  it('is silent when every check is configured', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: 'https://login.example.org/keys',
      AUTH_ISSUER: 'https://login.example.org/v2.0',
      AUTH_AUDIENCE: 'api://maxconf',
      GENESYS_ALLOWED_DIVISIONS: 'sbc',
      EVENT_SINK_USERNAME: 'pexip',
      EVENT_SINK_PASSWORD: 'secret',
    });

    expect(authWarnings(config)).toEqual([]);
  });

  it('warns about authentication off, no allowed division and no event-sink credentials', () => {
    const config = loadConfig({ NODE_ENV: 'development' });

    expect(authWarnings(config)).toEqual([
      expect.stringMatching(/^AUTH_MODE=none: /),
      expect.stringMatching(/^GENESYS_ALLOWED_DIVISIONS is empty: /),
      expect.stringMatching(
        /^EVENT_SINK_USERNAME\/EVENT_SINK_PASSWORD unset: /,
      ),
    ]);
  });
});
