import pino from 'pino';

/**
 * The simulator's own JSON-lines logger, separate from the service's. Its
 * level follows `LOG_LEVEL` like the service's does.
 */
export const simulatorLogger = pino({
  name: 'pexip-simulator',
  level: process.env.LOG_LEVEL ?? 'info',
});
