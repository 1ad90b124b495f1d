import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, maskedConfig } from './app-config';
import { envExampleText, withConfigTable } from './env-docs';
import { envSchema } from './env.schema';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected loadConfig to refuse the environment');
}

describe('loadConfig', () => {
  it('starts with no variables at all, for a newcomer', () => {
    const config = loadConfig({});

    expect(config.port).toBe(3000);
    expect(config.pexip.url).toBeUndefined();
    expect(config.pexip.username).toBe('admin');
    expect(config.auth.mode).toBe('none');
    expect(config.queue).toEqual({
      backend: 'sqlite',
      sqlitePath: './data/maxconf.db',
      azureConnectionString: undefined,
      azureMessageEncoding: 'text',
    });
    expect(config.pool).toMatchObject({
      targetSize: 10,
      ripenSeconds: 90,
      hostPinLength: 6,
      guestPinLength: 4,
    });
    expect(config.collector).toEqual({
      intervalSeconds: 600,
      batchSize: 20,
      minAgeSeconds: 600,
      maxAttempts: 5,
    });
    expect(config.rooms.persistentPrefixes).toEqual(['test_', 'vkiosk_']);
    expect(config.rooms.tagUrlTemplate).toBe(
      'https://{host}.gov.bc.ca/idcheck/protected/video/{video_call_id}',
    );
    expect(config.genesys.apiUrl).toBe('https://api.cac1.pure.cloud');
    expect(config.rateLimitPerMinute).toBe(600);
  });

  it('names every wrong variable in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      POOL_TARGET_SIZE: '-1',
      QUEUE_BACKEND: 'redis',
      PEXIP_URL: 'ftp://pexip',
    });

    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^PORT: .*"eighty"/m);
    expect(problems.join('\n')).toMatch(
      /^POOL_TARGET_SIZE: must be at least 0/m,
    );
    expect(problems.join('\n')).toMatch(/^QUEUE_BACKEND: /m);
    expect(problems.join('\n')).toMatch(/^PEXIP_URL: must be an http/m);
  });

  it('refuses a production start without Pexip, auth and event-sink settings, naming each', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });

    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'AUTH_AUDIENCE',
      'AUTH_ISSUER',
      'AUTH_JWKS_URL',
      'EVENT_SINK_PASSWORD',
      'EVENT_SINK_USERNAME',
      'PEXIP_PASSWORD',
      'PEXIP_URL',
      'PEXIP_USERNAME',
    ]);
  });

  it('refuses AUTH_MODE=none in production', () => {
    expect(
      problemsOf({
        NODE_ENV: 'production',
        AUTH_MODE: 'none',
        PEXIP_URL: 'https://pexip.example.org',
        PEXIP_USERNAME: 'api',
        PEXIP_PASSWORD: 'secret',
        EVENT_SINK_USERNAME: 'pexip',
        EVENT_SINK_PASSWORD: 'secret',
      }),
    ).toEqual(['AUTH_MODE: `none` is refused when NODE_ENV=production']);
  });

  it('accepts a complete production environment', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PEXIP_URL: 'https://pexip.example.org/',
      PEXIP_USERNAME: 'api',
      PEXIP_PASSWORD: 'secret',
      AUTH_JWKS_URL: 'https://login.example.org/keys',
      AUTH_ISSUER: 'https://login.example.org/tenant/v2.0',
      AUTH_AUDIENCE: 'api://maxconf',
      EVENT_SINK_USERNAME: 'pexip',
      EVENT_SINK_PASSWORD: 'secret',
    });

    expect(config.auth.mode).toBe('jwt');
    expect(config.pexip.url).toBe('https://pexip.example.org');
  });

  it('asks for both halves of the Pexip OAuth client', () => {
    expect(problemsOf({ PEXIP_CLIENT_ID: 'client' })).toEqual([
      'PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY: set both for OAuth 2.0, or neither for Basic auth',
    ]);
  });

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf({
      PEXIP_PRIVATE_KEY: 'not-a-key-hunter2',
      PEXIP_CLIENT_ID: 'client',
    });

    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('masks secrets in the configuration it logs', () => {
    const config = loadConfig({
      PEXIP_PASSWORD: 'hunter2',
      EVENT_SINK_USERNAME: 'pexip',
      EVENT_SINK_PASSWORD: 'hunter3',
    });

    const logged = JSON.stringify(maskedConfig(config));
    expect(logged).not.toContain('hunter2');
    expect(logged).not.toContain('hunter3');
    expect(logged).toContain('"password":"***"');
  });
});

describe('.env.example', () => {
  it('is the text generated from the schema (run `npm run env-example`)', () => {
    const committed = readFileSync(
      join(__dirname, '..', '..', '.env.example'),
      'utf8',
    );

    expect(committed).toBe(envExampleText());
  });

  it('documents every variable of the schema', () => {
    const committed = readFileSync(
      join(__dirname, '..', '..', '.env.example'),
      'utf8',
    );

    for (const name of Object.keys(envSchema.shape)) {
      expect(committed).toMatch(new RegExp(`^# ${name}=`, 'm'));
    }
  });
});

describe('README.md', () => {
  it('carries the configuration table generated from the schema', () => {
    const readme = readFileSync(
      join(__dirname, '..', '..', 'README.md'),
      'utf8',
    );

    expect(withConfigTable(readme)).toBe(readme);
  });
});

describe('loadConfig, further', () => {
  it('names the missing production settings even when another value is malformed', () => {
    const names = problemsOf({ NODE_ENV: 'production', PORT: 'x' }).map(
      (p) => p.split(':')[0],
    );

    expect(names).toEqual(
      expect.arrayContaining([
        'PORT',
        'PEXIP_URL',
        'AUTH_JWKS_URL',
        'EVENT_SINK_PASSWORD',
      ]),
    );
  });

  it('masks credentials written into URLs', () => {
    const config = loadConfig({
      PEXIP_URL: 'https://api:s3cret@pexip.example.org',
    });

    const logged = JSON.stringify(maskedConfig(config));
    expect(logged).not.toContain('s3cret');
    expect(logged).toContain('https://***@pexip.example.org');
  });

  it('reads a TRUST_PROXY hop count as a number and a list as text', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({}).trustProxy).toBe('loopback, linklocal, uniquelocal');
  });
});

describe('loadConfig, start-up problems in one message', () => {
  it('names a bad private key beside missing production settings', () => {
    const names = problemsOf({
      NODE_ENV: 'production',
      PEXIP_CLIENT_ID: 'client',
      PEXIP_PRIVATE_KEY: 'not-a-pem',
    }).map((p) => p.split(':')[0]);

    expect(names).toEqual(
      expect.arrayContaining([
        'PEXIP_PRIVATE_KEY',
        'PEXIP_URL',
        'EVENT_SINK_USERNAME',
      ]),
    );
  });

  it('listens on loopback only when no token is checked, unless told otherwise', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(
      loadConfig({
        AUTH_MODE: 'jwt',
        AUTH_JWKS_URL: 'https://login.example.org/keys',
        AUTH_ISSUER: 'issuer',
        AUTH_AUDIENCE: 'audience',
      }).host,
    ).toBe('0.0.0.0');
  });
});
