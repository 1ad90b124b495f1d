import pino from 'pino';

/**
 * The simulator's own JSON-lines logger, separate from the service's. Its
 * level follows `LOG_LEVEL` like the service's does. It is built when the
 * module loads, before the service has checked its environment, so a level
 * pino does not know falls back to `info` rather than crash the import; the
 * service then reports the bad value itself.
 */
const requested = process.env.LOG_LEVEL?.trim().toLowerCase();

export const simulatorLogger = pino({
  name: 'pexip-simulator',
  level:
    requested && (requested === 'silent' || requested in pino.levels.values)
      ? requested
      : 'info',
});
