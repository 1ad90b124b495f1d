import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/** What the fake Genesys answers for one token. */
export type GenesysAnswer =
  | { divisionId: string | null; id?: string; name?: string }
  | { status: number };

/** A fake Genesys Cloud API on loopback: only `GET /api/v2/users/me`. */
export interface GenesysServer {
  /** Base URL, as `GENESYS_API_URL`. */
  readonly url: string;
  /** Requests received for `/api/v2/users/me`, answered or not. */
  readonly callCount: number;
  /** The `Authorization` header of the last such request. */
  readonly lastAuthorization: string | undefined;
  /**
   * Decides the answer for a token: a user in a division (`null`: a user
   * without division), or a bare status. Unknown tokens get 401.
   */
  setUser(token: string, answer: GenesysAnswer): void;
  /**
   * Makes Genesys unreachable until `up()`: `reset` drops each connection
   * at once, `hang` never answers (for timeouts).
   */
  down(mode?: 'reset' | 'hang'): void;
  up(): void;
  stop(): Promise<void>;
}

const USERS_ME = '/api/v2/users/me';

/**
 * Starts the fake Genesys Cloud API on 127.0.0.1, on a free port.
 *
 * @example
 * const genesys = await startGenesysServer();
 * genesys.setUser('agent-token', { divisionId: 'sbc-division' });
 */
export async function startGenesysServer(): Promise<GenesysServer> {
  const answers = new Map<string, GenesysAnswer>();
  const hanging = new Set<Socket>();
  let callCount = 0;
  let lastAuthorization: string | undefined;
  let outage: 'reset' | 'hang' | undefined;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || req.url !== USERS_ME) {
      sendJson(res, 404, { message: 'Not found', status: 404 });
      return;
    }
    callCount += 1;
    lastAuthorization = req.headers.authorization;
    if (outage === 'reset') {
      req.socket.destroy();
      return;
    }
    if (outage === 'hang') {
      hanging.add(req.socket);
      return;
    }

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const answer = token === undefined ? undefined : answers.get(token);
    if (!answer) {
      sendJson(res, 401, {
        message: 'Invalid login credentials.',
        code: 'bad.credentials',
        status: 401,
      });
      return;
    }
    if ('status' in answer) {
      sendJson(res, answer.status, { status: answer.status });
      return;
    }
    sendJson(res, 200, {
      id: answer.id ?? 'agent-1',
      name: answer.name ?? 'Test Agent',
      ...(answer.divisionId === null
        ? {}
        : {
            division: {
              id: answer.divisionId,
              name: 'Division',
              selfUri: `/api/v2/authorization/divisions/${answer.divisionId}`,
            },
          }),
      state: 'active',
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    get callCount() {
      return callCount;
    },
    get lastAuthorization() {
      return lastAuthorization;
    },
    setUser(token, answer) {
      answers.set(token, answer);
    },
    down(mode = 'reset') {
      outage = mode;
    },
    up() {
      outage = undefined;
      for (const socket of hanging) socket.destroy();
      hanging.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
