import { generateKeyPairSync } from 'node:crypto';
import {
  startGenesysServer,
  GenesysServer,
} from '../../support/genesys-server';
import { JwksServer, startJwksServer } from '../../support/jwks-server';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';
import { Answer, send, SendOptions } from '../../support/http';
import { RecordingProxy, startRecordingProxy } from './recording-proxy';

/** App role every private route requires in these tests. */
export const ROLE = 'Rooms.ReadWrite';
/** The Genesys division whose agents may read rooms. */
export const DIVISION = 'video-agents';
export const SINK_USER = 'pexip-sink';
export const SINK_PASSWORD = 'sink-Secret-7f3a9c';
export const PEXIP_USER = 'maxconf-api';

export interface SecurityRigOptions {
  /** Overrides of the service's environment. */
  readonly env?: Record<string, string>;
  /** How the service proves itself to Pexip; default Basic. */
  readonly pexipAuth?: 'basic' | 'oauth';
  /** The Basic password of the management API; default a fixed one. */
  readonly pexipPassword?: string;
}

/**
 * The real service with everything it talks to on loopback: the Pexip
 * simulator behind a proxy that records the credentials sent to it, a
 * token issuer serving its JWKS, and a fake Genesys Cloud. Private routes
 * need a bearer token (AUTH_MODE=jwt) unless `env` says otherwise.
 */
export interface SecurityRig {
  readonly service: TestService;
  readonly pexip: TestSimulator;
  readonly proxy: RecordingProxy;
  readonly jwks: JwksServer;
  readonly genesys: GenesysServer;
  readonly pexipPassword: string;
  /** The OAuth client's private key PEM, when `pexipAuth` is `oauth`. */
  readonly pexipPrivateKey?: string;
  /** Calls the service with the path exactly as given. */
  send(method: string, path: string, options?: SendOptions): Promise<Answer>;
  /** A valid token with the required role; `claims` override defaults. */
  token(claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the rig; stop it with `close()`.
 *
 * @example
 * const rig = await startSecurityRig({ env: { RATE_LIMIT_PER_MINUTE: '5' } });
 * const answer = await rig.send('GET', '/room/pool', {
 *   headers: bearerHeader(await rig.token()),
 * });
 */
export async function startSecurityRig(
  options: SecurityRigOptions = {},
): Promise<SecurityRig> {
  const pexipPassword = options.pexipPassword ?? 'pexip-Basic-2b8e51d4';
  const oauth = options.pexipAuth === 'oauth' ? oauthClientKeys() : undefined;

  const pexip = await startTestSimulator({
    username: PEXIP_USER,
    password: pexipPassword,
    oauthClients: oauth
      ? [{ clientId: 'maxconf', publicKeyPem: oauth.publicKeyPem }]
      : [],
  });
  const proxy = await startRecordingProxy(pexip.url);
  const jwks = await startJwksServer({ alg: 'RS256' });
  const genesys = await startGenesysServer();

  let service: TestService;
  try {
    service = await startService({
      PEXIP_URL: proxy.url,
      PEXIP_USERNAME: PEXIP_USER,
      PEXIP_PASSWORD: pexipPassword,
      ...(oauth
        ? { PEXIP_CLIENT_ID: 'maxconf', PEXIP_PRIVATE_KEY: oauth.privateKeyPem }
        : {}),
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: jwks.url,
      AUTH_ISSUER: jwks.issuer,
      AUTH_AUDIENCE: jwks.audience,
      AUTH_REQUIRED_ROLES: ROLE,
      GENESYS_API_URL: genesys.url,
      GENESYS_ALLOWED_DIVISIONS: DIVISION,
      GENESYS_TIMEOUT_MS: '1000',
      EVENT_SINK_USERNAME: SINK_USER,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
      ...options.env,
    });
  } catch (error) {
    await Promise.all([pexip.close(), proxy.close(), jwks.stop()]);
    await genesys.stop();
    throw error;
  }

  return {
    service,
    pexip,
    proxy,
    jwks,
    genesys,
    pexipPassword,
    pexipPrivateKey: oauth?.privateKeyPem,
    send: (method, path, sendOptions) =>
      send(service.url, method, path, sendOptions),
    token: (claims = {}) => jwks.signToken({ roles: [ROLE], ...claims }),
    async close() {
      await service.close();
      await proxy.close();
      await pexip.close();
      await jwks.stop();
      await genesys.stop();
    },
  };
}

function oauthClientKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
  });
  return {
    privateKeyPem: privateKey
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
