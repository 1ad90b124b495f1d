import {
  createServer,
  request as httpRequest,
  IncomingMessage,
  ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A pass-through HTTP proxy on loopback that writes down the credentials a
 * client sends upstream and the access tokens the upstream issues, so a
 * test knows exactly which secret strings were in flight.
 */
export interface RecordingProxy {
  /** Base URL to give the client instead of the upstream's. */
  readonly url: string;
  /** Every distinct `Authorization` value seen, oldest first. */
  readonly authorizations: readonly string[];
  /** Every `client_assertion` posted to a token endpoint. */
  readonly clientAssertions: readonly string[];
  /** Every `access_token` the upstream answered with. */
  readonly accessTokens: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts the proxy in front of `upstream` (e.g. the Pexip simulator).
 *
 * @example
 * const proxy = await startRecordingProxy(pexip.url);
 * // … PEXIP_URL: proxy.url …
 * expect(proxy.accessTokens).toHaveLength(1);
 */
export async function startRecordingProxy(
  upstream: string,
): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const authorizations: string[] = [];
  const clientAssertions: string[] = [];
  const accessTokens: string[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const authorization = req.headers.authorization;
      if (authorization && !authorizations.includes(authorization)) {
        authorizations.push(authorization);
      }
      const assertion = new URLSearchParams(body.toString('utf8')).get(
        'client_assertion',
      );
      if (assertion) clientAssertions.push(assertion);

      const forward = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            const answerBody = Buffer.concat(answerChunks);
            const token = accessTokenIn(answerBody);
            if (token) accessTokens.push(token);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(answerBody);
          });
        },
      );
      // A hanging or dropped upstream answer is the client's to notice.
      forward.on('error', () => res.destroy());
      res.on('close', () => forward.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    authorizations,
    clientAssertions,
    accessTokens,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function accessTokenIn(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      access_token?: unknown;
    };
    return typeof parsed.access_token === 'string'
      ? parsed.access_token
      : undefined;
  } catch {
    return undefined;
  }
}
