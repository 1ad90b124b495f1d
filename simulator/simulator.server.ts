import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

import express from 'express';

import { CONTROL_PREFIX, controlApiRouter } from './control-api.router';
import { managementApiHandler } from './management-api.handler';
import { OAuthClient } from './oauth.issuer';
import { simulatorLogger } from './simulator.logger';
import { SimulatorSettings, SimulatorState } from './simulator.state';

export interface SimulatorOptions {
  /** 0 = any free port (default). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Basic credentials of the management API, default `admin`/`admin`. */
  username?: string;
  password?: string;
  /** Delay added to every management-API answer, default 0. */
  latencyMs?: number;
  /** Clients whose ES256 assertions buy bearer tokens at `/oauth/token/`. */
  oauthClients?: OAuthClient[];
  /** Lifetime of issued access tokens, default 3600. */
  tokenLifetimeSeconds?: number;
  /** Largest list page, default 1000. */
  maxLimit?: number;
  /** `Location` as an absolute URL (default) or a path only. */
  absoluteLocation?: boolean;
}

export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  /** Stops listening and ends every open connection, hanging ones too. */
  close(): Promise<void>;
}

// Longer than the idle timeout of common clients and load balancers, so the
// simulator is never the side that closes a keep-alive connection mid-reuse.
const KEEP_ALIVE_MS = 65_000;

/**
 * Starts an in-memory Pexip management node on loopback (by default).
 *
 * @throws Error on an invalid option or when the port cannot be bound
 * @example
 * const pexip = await startSimulator();
 * // … point a client at pexip.url …
 * await pexip.close();
 */
export async function startSimulator(
  options: SimulatorOptions = {},
): Promise<RunningSimulator> {
  const settings = resolveSettings(options);
  const state = new SimulatorState(settings, simulatorLogger);

  const app = express();
  app.disable('etag');
  app.disable('x-powered-by');
  app.set('query parser', false);
  app.use(CONTROL_PREFIX, controlApiRouter(state));
  app.use(managementApiHandler(state));

  const server = createServer(app);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(settings.host)}:${port}`,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        state.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function resolveSettings(options: SimulatorOptions): SimulatorSettings {
  const settings: SimulatorSettings = {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    username: options.username ?? 'admin',
    password: options.password ?? 'admin',
    latencyMs: options.latencyMs ?? 0,
    oauthClients: options.oauthClients ?? [],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    maxLimit: options.maxLimit ?? 1000,
    absoluteLocation: options.absoluteLocation ?? true,
  };

  const wholeAtLeast = (name: keyof SimulatorSettings, min: number) => {
    const value = settings[name];
    if (!Number.isInteger(value) || (value as number) < min) {
      throw new Error(
        `Simulator option ${name} must be a whole number of at least ${min}, got ${String(value)}.`,
      );
    }
  };
  wholeAtLeast('port', 0);
  wholeAtLeast('latencyMs', 0);
  wholeAtLeast('tokenLifetimeSeconds', 1);
  wholeAtLeast('maxLimit', 1);
  return settings;
}

/** A host to put in a URL: wildcards become loopback, IPv6 is bracketed. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
