import { request as httpRequest } from 'node:http';

/** One HTTP answer, its body parsed when its content type is JSON. */
export interface Answer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

/** What a request carries besides its method and path. */
export interface CallOptions {
  readonly headers?: Record<string, string>;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly body?: unknown;
  /** Sent as it is, with `Content-Type: application/json` unless given. */
  readonly rawBody?: string;
}

export interface SendOptions extends CallOptions {
  /** Source address of the connection, e.g. `127.0.0.2`: another client. */
  readonly localAddress?: string;
}

/**
 * Calls a server with `fetch`, as an ordinary client would.
 *
 * @example const answer = await callService(service.url, 'GET', '/room/pool');
 */
export async function callService<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const payload = payloadOf(options);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: payload,
  });
  return readAnswer(response);
}

/** Reads a fetch answer; JSON bodies (problem+json too) are parsed. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: parsedIfJson(response.headers.get('content-type'), text),
  };
}

/**
 * Sends one request with the path exactly as given, on a connection of its
 * own. `fetch` would normalise the path (`/room/..` becomes `/`, `%2F` may
 * be decoded), which hides what a hostile client can send, and cannot
 * choose its source address.
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
  const payload = payloadOf(options);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }

  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method,
        path,
        headers,
        agent: false,
        localAddress: options.localAddress,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const answerHeaders = new Headers();
          const raw = response.rawHeaders;
          for (let i = 0; i < raw.length; i += 2) {
            answerHeaders.append(raw[i], raw[i + 1]);
          }
          resolve({
            status: response.statusCode ?? 0,
            headers: answerHeaders,
            text,
            body: parsedIfJson(answerHeaders.get('content-type'), text),
          });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** An `Authorization` header value for HTTP Basic, UTF-8 encoded. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Request headers with HTTP Basic credentials. */
export function basicHeader(
  username: string,
  password: string,
): { authorization: string } {
  return { authorization: basic(username, password) };
}

/** Request headers with a bearer token. */
export function bearerHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

function payloadOf(options: CallOptions): string | undefined {
  if (options.rawBody !== undefined) return options.rawBody;
  return options.body === undefined ? undefined : JSON.stringify(options.body);
}

function parsedIfJson(contentType: string | null, text: string): any {
  return /json/.test(contentType ?? '') && text !== ''
    ? JSON.parse(text)
    : undefined;
}
