import type { LoggedRequest } from '../../simulator';

/*
 * Pexip's paths as tests spell them, written out rather than taken from the
 * service, so that a wrong path in the service fails a test; and filters
 * over the simulator's request log.
 */

/** Pexip's list of rooms; every room request the service makes goes here. */
export const CONFERENCES = '/api/admin/configuration/v1/conference/';
/** The status API's list of conferences in progress. */
export const LIVE_CONFERENCES = '/api/admin/status/v1/conference/';

/** Requests that change something on Pexip. */
export function writesOf(requests: readonly LoggedRequest[]): LoggedRequest[] {
  return requests.filter((request) => request.method !== 'GET');
}

/** Management-API DELETEs of rooms. */
export function roomDeletions(
  requests: readonly LoggedRequest[],
): LoggedRequest[] {
  return requests.filter(
    (request) =>
      request.method === 'DELETE' && request.path.startsWith(CONFERENCES),
  );
}

/** The decoded query of a logged request's path. */
export function queryOf(request: LoggedRequest): URLSearchParams {
  return new URL(request.path, 'http://pexip.invalid').searchParams;
}
