import { z } from 'zod';

/**
 * Every environment variable the service reads, with its default and the
 * sentence an operator sees in `.env.example` and the README. This schema is
 * the single source for both, so a variable cannot be documented without
 * being read or read without being documented.
 *
 * Values stay strings or primitives here; `loadConfig` turns them into the
 * typed `AppConfig` the rest of the code injects.
 */

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const optionalText = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value));

const url = () =>
  z
    .string()
    .trim()
    .transform((value) => value.replace(/\/+$/, ''))
    .pipe(
      z.url({
        protocol: /^https?$/,
        error: 'must be an http:// or https:// URL',
      }),
    );

const optionalUrl = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(url().optional());

export const envSchema = z.object({
  PORT: integer(0, 65535)
    .default(3000)
    .describe('HTTP port the API listens on.'),
  HOST: optionalText().describe(
    'Address the API binds to. Default: `0.0.0.0` (every interface) when bearer tokens are checked; `127.0.0.1` when AUTH_MODE=none, so an unauthenticated API is not open to the network by accident.',
  ),
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe(
      '`production` turns on the strict start-up checks (real Pexip, authentication, event-sink credentials).',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level.'),

  PEXIP_URL: optionalUrl().describe(
    'Base URL of the Pexip management node, e.g. `https://management.example.org`. Unset: an embedded Pexip simulator is started (development only).',
  ),
  PEXIP_USERNAME: optionalText().describe(
    'Basic-auth user for the management API. Defaults to `admin` outside production; the simulator reads the same variable.',
  ),
  PEXIP_PASSWORD: optionalText().describe(
    'Basic-auth password for the management API. Defaults to `admin` outside production; the simulator reads the same variable.',
  ),
  PEXIP_CLIENT_ID: optionalText().describe(
    'OAuth 2.0 client id. With `PEXIP_PRIVATE_KEY`, replaces Basic auth.',
  ),
  PEXIP_PRIVATE_KEY: optionalText().describe(
    'ES256 private key of the OAuth 2.0 client: PEM text, or base64 of the PEM.',
  ),
  PEXIP_CA_FILE: optionalText().describe(
    "Path to an extra CA bundle (PEM) that signed the management node's certificate.",
  ),
  PEXIP_TIMEOUT_MS: integer(100, 600_000)
    .default(10_000)
    .describe('Timeout of one call to Pexip, in milliseconds.'),
  PEXIP_MAX_CONCURRENCY: integer(1, 100)
    .default(10)
    .describe('Calls to Pexip in flight at once, at most.'),
  PEXIP_MAX_RETRIES: integer(0, 10)
    .default(3)
    .describe(
      'Retries of a safe call (read, PATCH, DELETE) after a network error, 429, 502, 503 or 504.',
    ),
  PEXIP_SIMULATOR_PORT: integer(0, 65535)
    .default(8080)
    .describe(
      'Port of `npm run simulator`. The embedded simulator picks any free port.',
    ),
  PEXIP_SIMULATOR_LATENCY_MS: integer(0, 600_000)
    .default(0)
    .describe('Delay the simulator adds to every management-API answer.'),

  POOL_TARGET_SIZE: integer(0, 10_000)
    .default(10)
    .describe(
      'Ready rooms the pool keeps. `0` disables the pool: every room is made on demand.',
    ),
  POOL_RIPEN_SECONDS: integer(0, 86_400)
    .default(90)
    .describe(
      'Age before a pool room is handed out; Pexip needs about a minute to replicate a new room to its conferencing nodes.',
    ),
  POOL_REFILL_INTERVAL_SECONDS: integer(1, 86_400)
    .default(60)
    .describe('How often the pool is topped up to its target on a timer.'),
  POOL_HOST_PIN_LENGTH: integer(4, 20)
    .default(6)
    .describe('Digits in a pool room host PIN.'),
  POOL_GUEST_PIN_LENGTH: integer(4, 20)
    .default(4)
    .describe('Digits in a pool room guest PIN.'),
  AUTO_DIAL_SIP_URI: optionalText().describe(
    "SIP address each new room dials automatically (the contact centre's queue), with the room name as display name. Unset: no automatic participant.",
  ),
  BULK_CREATE_MAX: integer(1, 500)
    .default(500)
    .describe(
      'Largest `count` accepted by a bulk create; it can lower the limit of 500, not raise it.',
    ),

  TAG_URL_TEMPLATE: z
    .string()
    .default('https://{host}.gov.bc.ca/idcheck/protected/video/{video_call_id}')
    .refine((v) => v.includes('{video_call_id}'), {
      error: 'must contain {video_call_id}',
    })
    .describe(
      'Tag written on a room handed out by `POST /room/create`; `{host}` and `{video_call_id}` come from `uuiData`.',
    ),
  UUI_ALLOWED_HOSTS: optionalText().describe(
    'Comma-separated allow-list of `host` values in `uuiData`. Unset: any host that is a DNS label (1–63 of a-z, 0-9 and `-`, not starting or ending with `-`).',
  ),
  PERSISTENT_ROOM_PREFIXES: z
    .string()
    .default('test_,vkiosk_')
    .describe(
      'Comma-separated name prefixes of rooms that the collector and delete-all never remove.',
    ),

  QUEUE_BACKEND: z
    .enum(['sqlite', 'azure'])
    .default('sqlite')
    .describe(
      '`sqlite`: an embedded file, for one instance. `azure`: Azure Storage Queue, shared by several replicas.',
    ),
  SQLITE_PATH: z
    .string()
    .default('./data/maxconf.db')
    .describe('File of the embedded queue store (created with its folder).'),
  AZURE_STORAGE_CONNECTION_STRING: optionalText().describe(
    'Connection string of the storage account, for `QUEUE_BACKEND=azure`.',
  ),
  AZURE_QUEUE_MESSAGE_ENCODING: z
    .enum(['text', 'base64'])
    .default('text')
    .describe(
      'How message bodies are written to and read from Azure queues. `base64` matches queues written by Azure Functions bindings.',
    ),

  GC_INTERVAL_SECONDS: integer(1, 86_400)
    .default(600)
    .describe('How often the collector empties the deletion queue.'),
  GC_BATCH_SIZE: integer(1, 5_000)
    .default(20)
    .describe('Deletion-queue messages the collector takes per run.'),
  GC_MIN_AGE_SECONDS: integer(0, 86_400)
    .default(600)
    .describe(
      'Age a deletion message must reach before its room is removed; a participant who drops and rejoins briefly ends the conference for a moment.',
    ),
  GC_MAX_ATTEMPTS: integer(1, 1_000)
    .default(5)
    .describe(
      'Failed tries before a deletion message is dropped with an error log.',
    ),

  AUTH_MODE: z
    .enum(['jwt', 'none'])
    .optional()
    .describe(
      'Bearer-token check on private routes: `jwt`, or `none` (refused in production). Default: `jwt` in production, `none` otherwise.',
    ),
  AUTH_JWKS_URL: optionalUrl().describe(
    'JWKS of the token issuer, e.g. `https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys`.',
  ),
  AUTH_ISSUER: optionalText().describe(
    'Expected `iss` claim, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`.',
  ),
  AUTH_AUDIENCE: optionalText().describe(
    'Expected `aud` claim: the API app registration (`api://<app id>` or the app id).',
  ),
  AUTH_REQUIRED_ROLES: optionalText().describe(
    'Comma-separated app roles a token must carry in its `roles` claim. Unset: no role check.',
  ),
  AUTH_ALGORITHMS: z
    .string()
    .default('RS256')
    .describe(
      'Comma-separated signature algorithms accepted on bearer tokens.',
    ),
  AUTH_CLOCK_SKEW_SECONDS: integer(0, 60)
    .default(60)
    .describe('Clock skew allowed on `exp` and `nbf`.'),

  GENESYS_API_URL: url()
    .default('https://api.cac1.pure.cloud')
    .describe('Genesys Cloud API base URL used to check agent tokens.'),
  GENESYS_ALLOWED_DIVISIONS: optionalText().describe(
    'Comma-separated Genesys division ids whose users may read rooms. Unset: every public room call is refused.',
  ),
  GENESYS_CACHE_SECONDS: integer(0, 3_600)
    .default(60)
    .describe('How long a validated Genesys token is remembered.'),
  GENESYS_TIMEOUT_MS: integer(100, 60_000)
    .default(5_000)
    .describe('Timeout of one call to Genesys, in milliseconds.'),

  EVENT_SINK_USERNAME: optionalText().describe(
    'Basic-auth user Pexip sends to the event sink. Unset: the event sink refuses every call.',
  ),
  EVENT_SINK_PASSWORD: optionalText().describe(
    'Basic-auth password Pexip sends to the event sink.',
  ),

  CORS_ORIGINS: optionalText().describe(
    'Comma-separated browser origins allowed to call `/public/room` (the agent widget).',
  ),
  TRUST_PROXY: z
    .string()
    .default('loopback, linklocal, uniquelocal')
    .describe(
      'Proxies whose X-Forwarded-For is believed, in Express trust-proxy form: a hop count (e.g. `1` behind one ingress), addresses or subnets, or names such as `loopback`. The client address found this way keys the rate limit.',
    ),
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000)
    .default(600)
    .describe('Requests per client per minute; health routes are exempt.'),
  BODY_LIMIT_BYTES: integer(1_024, 10_485_760)
    .default(1_048_576)
    .describe('Largest request body accepted; larger ones get 413.'),
  SHUTDOWN_GRACE_MS: integer(0, 600_000)
    .default(5_000)
    .describe(
      'On SIGTERM, readiness fails at once but requests are still served this long, so load balancers stop sending traffic; then the listener closes and requests in flight finish.',
    ),
  METRICS_LOG_INTERVAL_SECONDS: integer(0, 86_400)
    .default(300)
    .describe(
      'How often a summary of the metrics is logged; `0` turns it off.',
    ),
});

export type RawEnv = z.infer<typeof envSchema>;
export type EnvName = keyof typeof envSchema.shape;

/** Variables whose values never appear in logs or error messages. */
export const SECRET_ENV_NAMES: ReadonlySet<EnvName> = new Set<EnvName>([
  'PEXIP_PASSWORD',
  'PEXIP_PRIVATE_KEY',
  'AZURE_STORAGE_CONNECTION_STRING',
  'EVENT_SINK_PASSWORD',
]);
