import { readFileSync } from 'node:fs';
import { EnvName, envSchema, RawEnv, SECRET_ENV_NAMES } from './env.schema';

export type QueueBackend = 'sqlite' | 'azure';
export type AuthMode = 'jwt' | 'none';

/**
 * The validated configuration, built once at start-up and injected by class.
 * Every module reads its settings from here, never from `process.env`.
 */
export abstract class AppConfig {
  readonly port: number;
  readonly host: string;
  readonly nodeEnv: 'development' | 'production' | 'test';
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  readonly bodyLimitBytes: number;
  readonly rateLimitPerMinute: number;
  /** Express `trust proxy` setting: a hop count or a list of proxies. */
  readonly trustProxy: number | string;
  readonly corsOrigins: readonly string[];
  readonly metricsLogIntervalSeconds: number;

  readonly pexip: {
    /** Unset means: start the embedded simulator and point here at it. */
    readonly url: string | undefined;
    readonly username: string;
    readonly password: string;
    readonly clientId: string | undefined;
    readonly privateKeyPem: string | undefined;
    readonly caPem: string | undefined;
    readonly timeoutMs: number;
    readonly maxConcurrency: number;
    readonly maxRetries: number;
    readonly simulatorPort: number;
    readonly simulatorLatencyMs: number;
  };

  readonly pool: {
    readonly targetSize: number;
    readonly ripenSeconds: number;
    readonly refillIntervalSeconds: number;
    readonly hostPinLength: number;
    readonly guestPinLength: number;
    readonly autoDialSipUri: string | undefined;
    readonly bulkCreateMax: number;
  };

  readonly rooms: {
    readonly tagUrlTemplate: string;
    /** Empty: any host that matches the host pattern. */
    readonly allowedHosts: readonly string[];
    readonly persistentPrefixes: readonly string[];
  };

  readonly queue: {
    readonly backend: QueueBackend;
    readonly sqlitePath: string;
    readonly azureConnectionString: string | undefined;
    readonly azureMessageEncoding: 'text' | 'base64';
  };

  readonly collector: {
    readonly intervalSeconds: number;
    readonly batchSize: number;
    readonly minAgeSeconds: number;
    readonly maxAttempts: number;
  };

  readonly auth: {
    readonly mode: AuthMode;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
    readonly requiredRoles: readonly string[];
    readonly algorithms: readonly string[];
    readonly clockSkewSeconds: number;
  };

  readonly genesys: {
    readonly apiUrl: string;
    readonly allowedDivisions: readonly string[];
    readonly cacheSeconds: number;
    readonly timeoutMs: number;
  };

  readonly eventSink: {
    readonly username: string | undefined;
    readonly password: string | undefined;
  };
}

/** Thrown when the environment is wrong; the message names every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (${problems.length} problem${
        problems.length === 1 ? '' : 's'
      }):\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'See .env.example for every variable and its meaning.',
    );
    this.name = 'ConfigError';
  }
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/**
 * Validates `env` and builds the typed configuration.
 *
 * @param env usually `process.env`; tests pass their own object.
 * @throws ConfigError naming every wrong or missing variable at once.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];

  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '(environment)');
      problems.push(`${name}: ${issue.message}${describeValue(name, env)}`);
    }
  }

  // The checks across variables read the raw text, so that a start-up with
  // one malformed value still names every missing setting in one go.
  const production = text(env, 'NODE_ENV') === 'production';
  const authMode = chosenAuthMode(env, production);
  problems.push(...crossFieldProblems(env, authMode, production));

  const caFile = text(env, 'PEXIP_CA_FILE');
  let caPem: string | undefined;
  if (caFile) {
    try {
      caPem = readFileSync(caFile, 'utf8');
    } catch (error) {
      problems.push(
        `PEXIP_CA_FILE: cannot read ${caFile} (${(error as Error).message})`,
      );
    }
  }

  const privateKey = text(env, 'PEXIP_PRIVATE_KEY');
  const privateKeyPem = privateKey ? decodePem(privateKey) : undefined;
  if (privateKey && !privateKeyPem) {
    problems.push(
      'PEXIP_PRIVATE_KEY: must be a PEM private key or the base64 of one',
    );
  }

  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(problems);
  }
  const raw = parsed.data;

  return {
    port: raw.PORT,
    host: raw.HOST ?? (authMode === 'none' ? '127.0.0.1' : '0.0.0.0'),
    nodeEnv: raw.NODE_ENV,
    logLevel: raw.LOG_LEVEL,
    shutdownGraceMs: raw.SHUTDOWN_GRACE_MS,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    rateLimitPerMinute: raw.RATE_LIMIT_PER_MINUTE,
    trustProxy: /^\d+$/.test(raw.TRUST_PROXY.trim())
      ? Number(raw.TRUST_PROXY)
      : raw.TRUST_PROXY,
    corsOrigins: list(raw.CORS_ORIGINS),
    metricsLogIntervalSeconds: raw.METRICS_LOG_INTERVAL_SECONDS,
    pexip: {
      url: raw.PEXIP_URL,
      username: raw.PEXIP_USERNAME ?? 'admin',
      password: raw.PEXIP_PASSWORD ?? 'admin',
      clientId: raw.PEXIP_CLIENT_ID,
      privateKeyPem,
      caPem,
      timeoutMs: raw.PEXIP_TIMEOUT_MS,
      maxConcurrency: raw.PEXIP_MAX_CONCURRENCY,
      maxRetries: raw.PEXIP_MAX_RETRIES,
      simulatorPort: raw.PEXIP_SIMULATOR_PORT,
      simulatorLatencyMs: raw.PEXIP_SIMULATOR_LATENCY_MS,
    },
    pool: {
      targetSize: raw.POOL_TARGET_SIZE,
      ripenSeconds: raw.POOL_RIPEN_SECONDS,
      refillIntervalSeconds: raw.POOL_REFILL_INTERVAL_SECONDS,
      hostPinLength: raw.POOL_HOST_PIN_LENGTH,
      guestPinLength: raw.POOL_GUEST_PIN_LENGTH,
      autoDialSipUri: raw.AUTO_DIAL_SIP_URI,
      bulkCreateMax: raw.BULK_CREATE_MAX,
    },
    rooms: {
      tagUrlTemplate: raw.TAG_URL_TEMPLATE,
      allowedHosts: list(raw.UUI_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
      persistentPrefixes: list(raw.PERSISTENT_ROOM_PREFIXES),
    },
    queue: {
      backend: raw.QUEUE_BACKEND,
      sqlitePath: raw.SQLITE_PATH,
      azureConnectionString: raw.AZURE_STORAGE_CONNECTION_STRING,
      azureMessageEncoding: raw.AZURE_QUEUE_MESSAGE_ENCODING,
    },
    collector: {
      intervalSeconds: raw.GC_INTERVAL_SECONDS,
      batchSize: raw.GC_BATCH_SIZE,
      minAgeSeconds: raw.GC_MIN_AGE_SECONDS,
      maxAttempts: raw.GC_MAX_ATTEMPTS,
    },
    auth: {
      mode: authMode,
      jwksUrl: raw.AUTH_JWKS_URL,
      issuer: raw.AUTH_ISSUER,
      audience: raw.AUTH_AUDIENCE,
      requiredRoles: list(raw.AUTH_REQUIRED_ROLES),
      algorithms: list(raw.AUTH_ALGORITHMS),
      clockSkewSeconds: raw.AUTH_CLOCK_SKEW_SECONDS,
    },
    genesys: {
      apiUrl: raw.GENESYS_API_URL,
      allowedDivisions: list(raw.GENESYS_ALLOWED_DIVISIONS),
      cacheSeconds: raw.GENESYS_CACHE_SECONDS,
      timeoutMs: raw.GENESYS_TIMEOUT_MS,
    },
    eventSink: {
      username: raw.EVENT_SINK_USERNAME,
      password: raw.EVENT_SINK_PASSWORD,
    },
  };
}

function text(
  env: Record<string, string | undefined>,
  name: EnvName,
): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function chosenAuthMode(
  env: Record<string, string | undefined>,
  production: boolean,
): AuthMode {
  const mode = text(env, 'AUTH_MODE');
  if (mode === 'jwt' || mode === 'none') return mode;
  return production ? 'jwt' : 'none';
}

function crossFieldProblems(
  env: Record<string, string | undefined>,
  authMode: AuthMode,
  production: boolean,
): string[] {
  const problems: string[] = [];
  const has = (name: EnvName) => text(env, name) !== undefined;
  const missing = (name: EnvName, why: string) =>
    problems.push(`${name}: required ${why}`);

  if (authMode === 'jwt') {
    const why = 'when AUTH_MODE=jwt';
    if (!has('AUTH_JWKS_URL')) missing('AUTH_JWKS_URL', why);
    if (!has('AUTH_ISSUER')) missing('AUTH_ISSUER', why);
    if (!has('AUTH_AUDIENCE')) missing('AUTH_AUDIENCE', why);
  }
  if (
    has('AUTH_ALGORITHMS') &&
    list(text(env, 'AUTH_ALGORITHMS')).length === 0
  ) {
    problems.push('AUTH_ALGORITHMS: must name at least one algorithm');
  }
  if (has('PEXIP_CLIENT_ID') !== has('PEXIP_PRIVATE_KEY')) {
    problems.push(
      'PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY: set both for OAuth 2.0, or neither for Basic auth',
    );
  }
  if (
    text(env, 'QUEUE_BACKEND') === 'azure' &&
    !has('AZURE_STORAGE_CONNECTION_STRING')
  ) {
    missing('AZURE_STORAGE_CONNECTION_STRING', 'when QUEUE_BACKEND=azure');
  }
  if (has('EVENT_SINK_USERNAME') !== has('EVENT_SINK_PASSWORD')) {
    problems.push(
      'EVENT_SINK_USERNAME and EVENT_SINK_PASSWORD: set both, or neither to refuse every event',
    );
  }
  if (production) {
    const why = 'when NODE_ENV=production';
    if (authMode === 'none') {
      problems.push('AUTH_MODE: `none` is refused when NODE_ENV=production');
    }
    if (!has('PEXIP_URL')) missing('PEXIP_URL', why);
    if (!has('PEXIP_CLIENT_ID') && !has('PEXIP_USERNAME')) {
      missing('PEXIP_USERNAME', `${why} (or PEXIP_CLIENT_ID for OAuth 2.0)`);
    }
    if (!has('PEXIP_CLIENT_ID') && !has('PEXIP_PASSWORD')) {
      missing('PEXIP_PASSWORD', `${why} (or PEXIP_PRIVATE_KEY for OAuth 2.0)`);
    }
    if (!has('EVENT_SINK_USERNAME')) missing('EVENT_SINK_USERNAME', why);
    if (!has('EVENT_SINK_PASSWORD')) missing('EVENT_SINK_PASSWORD', why);
  }
  return problems;
}

function describeValue(
  name: string,
  env: Record<string, string | undefined>,
): string {
  const value = env[name];
  if (value === undefined) return '';
  if (SECRET_ENV_NAMES.has(name as EnvName)) return ' (value hidden)';
  return ` (got "${value.length > 80 ? `${value.slice(0, 80)}…` : value}")`;
}

function decodePem(value: string): string | undefined {
  const text = value.includes('-----BEGIN')
    ? value
    : Buffer.from(value, 'base64').toString('utf8');
  const pem = text.replace(/\\n/g, '\n').trim();
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem) ? pem : undefined;
}

/**
 * The configuration as it may be logged: secrets replaced by `***`.
 */
export function maskedConfig(config: AppConfig): Record<string, unknown> {
  const hide = (value: string | undefined) => (value ? '***' : undefined);
  return {
    ...config,
    auth: { ...config.auth, jwksUrl: withoutUserInfo(config.auth.jwksUrl) },
    genesys: {
      ...config.genesys,
      apiUrl: withoutUserInfo(config.genesys.apiUrl),
    },
    pexip: {
      ...config.pexip,
      url: withoutUserInfo(config.pexip.url),
      password: hide(config.pexip.password),
      privateKeyPem: hide(config.pexip.privateKeyPem),
      caPem: config.pexip.caPem ? '(set)' : undefined,
    },
    queue: {
      ...config.queue,
      azureConnectionString: hide(config.queue.azureConnectionString),
    },
    eventSink: {
      username: config.eventSink.username,
      password: hide(config.eventSink.password),
    },
  };
}

/** A URL with any `user:password@` part replaced by `***@`. */
function withoutUserInfo<T extends string | undefined>(url: T): T {
  return (url?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@') ??
    url) as T;
}
