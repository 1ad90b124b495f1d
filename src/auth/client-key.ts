import type {
  AuthenticatedClient,
  AuthenticatedRequest,
} from './authenticated-client';

/**
 * Who a request counts against for rate limiting: the verified token's
 * subject when there is one, so that callers behind one proxy or NAT do not
 * share a budget, else the client address (`request.ip`, which honours the
 * app's `trust proxy` setting).
 *
 * @param caller the verified caller; by default the one on the request.
 * @example clientKey(request) // 'sub:6f1c…' or 'ip:10.0.0.7'
 */
export function clientKey(
  request: AuthenticatedRequest,
  caller: AuthenticatedClient | undefined = request.user,
): string {
  if (caller?.sub) return `sub:${caller.sub}`;
  return `ip:${request.ip ?? request.socket?.remoteAddress ?? 'unknown'}`;
}
