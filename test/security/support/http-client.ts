import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** One answer of the service, its body parsed when it is JSON. */
export interface Answer<T = any> {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly body: T;
}

export interface SendOptions {
  readonly headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly body?: unknown;
  /** Sent as it is, with `Content-Type: application/json`. */
  readonly rawBody?: string;
  /** Source address of the connection, e.g. `127.0.0.2`: another client. */
  readonly localAddress?: string;
}

/**
 * Sends one request with the path exactly as given, on a fresh connection.
 * `fetch` would normalise paths (`/room/..` becomes `/`) and cannot choose
 * its source address, and both matter to the tests of this folder.
 *
 * @example const answer = await send(service.url, 'GET', '/room/%2e%2e');
 */
export function send(
  baseUrl: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl);
  const payload =
    options.rawBody ??
    (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }

  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers,
        agent: false,
        localAddress: options.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const type = res.headers['content-type'] ?? '';
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            body:
              /json/.test(type) && text !== '' ? JSON.parse(text) : undefined,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `Authorization` for a bearer token. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `Authorization` for HTTP Basic, UTF-8 encoded. */
export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
