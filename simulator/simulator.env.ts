import { createPrivateKey, createPublicKey } from 'node:crypto';

import { SimulatorOptions } from './simulator.server';

/**
 * Reads the standalone simulator's settings from the environment. The
 * variable names are the service's own, so one `.env` drives both.
 *
 * @throws Error naming every variable that is set wrong
 * @example simulatorOptionsFromEnv({ PEXIP_SIMULATOR_PORT: '9000' }).port // 9000
 */
export function simulatorOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): SimulatorOptions {
  const problems: string[] = [];
  const whole = (name: string, fallback: number, max: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > max) {
      problems.push(`${name} must be a whole number from 0 to ${max}`);
    }
    return value;
  };

  const options: SimulatorOptions = {
    port: whole('PEXIP_SIMULATOR_PORT', 8080, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    username: env.PEXIP_USERNAME || 'admin',
    password: env.PEXIP_PASSWORD || 'admin',
    latencyMs: whole('PEXIP_SIMULATOR_LATENCY_MS', 0, 600_000),
  };

  const clientId = env.PEXIP_CLIENT_ID?.trim();
  const privateKey = env.PEXIP_PRIVATE_KEY?.trim();
  if (clientId && privateKey) {
    try {
      options.oauthClients = [
        { clientId, publicKeyPem: publicKeyOf(privateKey) },
      ];
    } catch {
      problems.push(
        'PEXIP_PRIVATE_KEY must be a PEM private key, or base64 of one',
      );
    }
  } else if (clientId || privateKey) {
    problems.push('PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY must be set together');
  }

  if (problems.length > 0) {
    throw new Error(`Invalid simulator settings: ${problems.join('; ')}.`);
  }
  return options;
}

/** The SPKI PEM public key of a PEM (or base64-of-PEM) private key. */
function publicKeyOf(privateKey: string): string {
  const pem = privateKey.includes('-----BEGIN')
    ? privateKey
    : Buffer.from(privateKey, 'base64').toString('utf8');
  return createPublicKey(createPrivateKey(pem))
    .export({ type: 'spki', format: 'pem' })
    .toString();
}
