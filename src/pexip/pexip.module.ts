import { HttpModule, HttpModuleOptions } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { AppConfig } from '../config/app-config';
import { PexipHttpClient } from './pexip-http.client';
import { PexipService } from './pexip.service';

/**
 * The Pexip adapter: the only module that talks to the management node.
 * Other modules import it and use `PexipService`. It reads `AppConfig`
 * from the global configuration module and, when some global module
 * provides one, reports each HTTP attempt to `PEXIP_CALL_OBSERVER`.
 */
@Module({
  imports: [
    HttpModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => pexipHttpOptions(config),
    }),
  ],
  providers: [PexipHttpClient, PexipService],
  exports: [PexipService],
})
export class PexipModule {}

/** The TCP keep-alive delay axios's HTTP adapter sets on every socket. */
const AXIOS_TCP_KEEPALIVE_MS = 60_000;

/**
 * Axios settings for the management node: keep-alive connections (enough
 * sockets for every call allowed in flight), the extra CA when one is
 * configured, JSON, no redirects (Django's slash redirect would silently
 * turn a POST into a GET), and every status handed back to the adapter,
 * which maps statuses itself.
 */
export function pexipHttpOptions(config: AppConfig): HttpModuleOptions {
  const { url, caPem, timeoutMs, maxConcurrency } = config.pexip;
  const sockets = {
    keepAlive: true,
    // axios turns TCP keep-alive on with a 60 s delay for every request's
    // socket, and the agent sets its own delay again each time it takes the
    // socket back: with two different delays, every call paid eight
    // setsockopt calls to flip them. With the same delay nothing changes
    // after a socket's first use.
    keepAliveMsecs: AXIOS_TCP_KEEPALIVE_MS,
    maxSockets: maxConcurrency,
    maxFreeSockets: maxConcurrency,
  };

  return {
    baseURL: url,
    timeout: timeoutMs,
    httpAgent: new http.Agent(sockets),
    httpsAgent: new https.Agent({
      ...sockets,
      // An extra CA, as its name says: the public roots stay trusted too.
      ...(caPem ? { ca: [...rootCertificates, caPem] } : {}),
    }),
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
    },
    maxRedirects: 0,
    validateStatus: () => true,
    // Report our own timeouts as ETIMEDOUT rather than ECONNABORTED.
    transitional: { clarifyTimeoutError: true },
  };
}
