import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as the scripted server received it. */
export interface ReceivedRequest {
  method: string;
  /** Path and raw query, exactly as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

/** What the server does with one request. */
export type Reply =
  | {
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      /** Wait this long before answering. */
      delayMs?: number;
    }
  /** Close the connection without answering (the client sees ECONNRESET). */
  | 'reset'
  /** Never answer (until the server closes). */
  | 'hang';

export type Handler = (request: ReceivedRequest) => Reply | Promise<Reply>;

/**
 * A stand-in for the Pexip management node in unit tests of the adapter:
 * a real HTTP server on a free loopback port whose answers each test
 * scripts, and which records what it received and how many requests it had
 * in flight at once.
 */
export class ScriptedPexipServer {
  readonly requests: ReceivedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private handler: Handler = () => ({ status: 500 });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(): Promise<ScriptedPexipServer> {
    let self: ScriptedPexipServer | undefined;
    const server = createServer((req, res) => {
      void self?.handle(req, res);
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
    self = new ScriptedPexipServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  /** Answers every later request with `handler`. */
  reply(handler: Handler): void {
    this.handler = handler;
  }

  /** Forgets the recorded requests and the in-flight peak. */
  clear(): void {
    this.requests.length = 0;
    this.maxInFlight = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.inFlight -= 1;
      }
    };
    res.on('close', finish);

    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://local');
    const request: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      json: parseJson(body),
    };
    this.requests.push(request);

    const reply = await this.handler(request);
    if (reply === 'hang') {
      return;
    }
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs) {
      await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    }
    const text =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(text && typeof reply.body !== 'string'
        ? { 'Content-Type': 'application/json' }
        : {}),
      ...reply.headers,
    });
    res.end(text);
  }
}

/** Replies in order, the last one repeated for every later request. */
export function inOrder(...replies: Reply[]): Handler {
  let next = 0;
  return () => replies[Math.min(next++, replies.length - 1)];
}

/** A Pexip list body with the given objects and next link. */
export function listBody(
  objects: unknown[],
  next: string | null = null,
): Record<string, unknown> {
  return {
    meta: {
      limit: 20,
      next,
      offset: 0,
      previous: null,
      total_count: objects.length,
    },
    objects,
  };
}

/** A conference as Pexip returns it, with the fields a test cares about. */
export function conference(
  id: number,
  name: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    name,
    service_type: 'conference',
    allow_guests: true,
    pin: '123456',
    guest_pin: '4821',
    tag: '',
    description: '',
    aliases: [],
    automatic_participants: [],
    resource_uri: `/api/admin/configuration/v1/conference/${id}/`,
    ...extra,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
