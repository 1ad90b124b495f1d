import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { stdTimeFunctions, type DestinationStream } from 'pino';
import type { Params } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Paths probed every few seconds; logging each would drown the rest. */
const QUIET_PATHS = ['/public/health', '/metrics'];

/**
 * Structured JSON logs through pino. Requests are logged with a minimal
 * serializer that leaves out every header: Authorization, x-auth-token and
 * cookies cannot leak because they are never copied into a log record.
 * The redact list is a second line for objects logged by our own code.
 */
export function loggerParams(
  config: AppConfig,
  destination?: DestinationStream,
): Params {
  const options: NonNullable<Params['pinoHttp']> = {
    level: config.logLevel,
    base: { service: 'maxconf' },
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    genReqId: requestId,
    customAttributeKeys: { reqId: 'request_id' },
    serializers: {
      req: (req: IncomingMessage & { id?: unknown }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
    redact: {
      paths: [
        'req.headers',
        'headers',
        'authorization',
        '*.authorization',
        'pin',
        'guest_pin',
        '*.pin',
        '*.guest_pin',
        'password',
        '*.password',
        'token',
        '*.token',
        'access_token',
        '*.access_token',
        'config.headers',
        '*.config.headers',
      ],
      censor: '[redacted]',
    },
    // A failed request is logged at error level once, by the exception
    // filter, with its cause; the access line for it is a warning.
    customLogLevel: (_req, res, error) => {
      if (error || res.statusCode >= 400) return 'warn';
      return 'info';
    },
    autoLogging: {
      ignore: (req) => QUIET_PATHS.some((path) => req.url?.startsWith(path)),
    },
  };
  return { pinoHttp: destination ? [options, destination] : options };
}

/**
 * Errors are logged by their name, message, code, status and stack, down
 * their `cause` chain, and nothing else: an HTTP client error carries the
 * request it failed on, Authorization header included, in other fields.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  const extra = error as Error & {
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown };
  };
  return {
    type: error.name,
    message: error.message,
    code: extra.code,
    status: extra.status ?? extra.response?.status,
    stack: error.stack,
    cause: depth < 4 ? serializeError(error.cause, depth + 1) : undefined,
  };
}

/**
 * Keeps a caller's X-Request-Id when it is a sane token, so a request can be
 * followed across services; otherwise makes one. Echoed on the answer.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && REQUEST_ID.test(incoming)
      ? incoming
      : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}
