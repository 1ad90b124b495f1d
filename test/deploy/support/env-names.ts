import { envSchema } from '../../../src/config/env.schema';

/** Every environment variable the service reads. */
export const KNOWN_ENV_NAMES: ReadonlySet<string> = new Set(
  Object.keys(envSchema.shape),
);

/**
 * The names the service would silently ignore: a typo in a deployment file
 * (`PEXIP_PASWORD`) leaves a default in place without any error, so every
 * name a deployment sets must be one the schema knows.
 *
 * @example unknownEnvNames(['PORT', 'PORTS']) // ['PORTS']
 */
export function unknownEnvNames(names: Iterable<string>): string[] {
  return [...names].filter((name) => !KNOWN_ENV_NAMES.has(name)).sort();
}
