import { AppConfig } from '../config/app-config';

/**
 * The settings that leave a door open or shut for good, each as the line
 * an operator should read at start-up. Empty when all is well.
 *
 * @example authWarnings(config) // ['AUTH_MODE=none: private routes …']
 */
export function authWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.auth.mode === 'none') {
    warnings.push(
      'AUTH_MODE=none: private routes accept every request without a token; never run like this in production',
    );
  }
  if (config.genesys.allowedDivisions.length === 0) {
    warnings.push(
      'GENESYS_ALLOWED_DIVISIONS is empty: every GET /public/room call is refused with 403',
    );
  }
  if (!config.eventSink.username || !config.eventSink.password) {
    warnings.push(
      'EVENT_SINK_USERNAME/EVENT_SINK_PASSWORD unset: the event sink refuses every call with 401, so ended rooms are only removed by DELETE',
    );
  }
  return warnings;
}
