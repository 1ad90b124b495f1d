/**
 * An in-memory Pexip Infinity management node for tests, benchmarks and
 * development: start it, point a client at its `url`, drive it through the
 * `/_simulator/` control surface.
 */
export { startSimulator } from './simulator.server';
export type { RunningSimulator, SimulatorOptions } from './simulator.server';
export type { OAuthClient } from './oauth.issuer';
export type { LoggedRequest } from './request.log';
export type { EventSinkMessage } from './event-sink.emitter';
export { CONTROL_PREFIX } from './control-api.router';
