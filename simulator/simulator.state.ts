import { Logger } from 'pino';

import { CallSimulator } from './call.simulator';
import { ConfigurationStore } from './configuration.store';
import { EventSinkEmitter } from './event-sink.emitter';
import { FaultInjector } from './fault.injector';
import { OAuthClient, OAuthIssuer } from './oauth.issuer';
import { RequestLog } from './request.log';

/** Options of one simulator, every default filled in. */
export interface SimulatorSettings {
  port: number;
  host: string;
  username: string;
  password: string;
  latencyMs: number;
  oauthClients: readonly OAuthClient[];
  tokenLifetimeSeconds: number;
  maxLimit: number;
  absoluteLocation: boolean;
}

/**
 * Everything one running simulator knows: the configuration it stores, the
 * calls in progress, and what the control surface has set (faults,
 * latency) or recorded (requests). The HTTP layers only read and change it.
 */
export class SimulatorState {
  readonly store = new ConfigurationStore();
  readonly faults = new FaultInjector();
  readonly requests = new RequestLog();
  readonly emitter: EventSinkEmitter;
  readonly calls: CallSimulator;
  readonly oauth: OAuthIssuer;
  /** Delay added to every management-API answer. */
  latencyMs: number;
  private readonly timers = new Set<NodeJS.Timeout>();

  /** @throws Error when an OAuth client's public key is not readable */
  constructor(
    readonly settings: SimulatorSettings,
    readonly logger: Logger,
  ) {
    this.latencyMs = settings.latencyMs;
    this.emitter = new EventSinkEmitter(logger);
    this.calls = new CallSimulator(this.store, this.emitter);
    this.oauth = new OAuthIssuer(
      settings.oauthClients,
      settings.tokenLifetimeSeconds,
    );
  }

  /** Waits `ms`; `close()` cancels the wait, leaving it unresolved. */
  delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /**
   * Back to a fresh management node: no rooms, calls, faults or logged
   * requests, the starting latency, event numbering from 1. Access tokens
   * stay valid and ids keep counting.
   */
  reset(): void {
    this.store.clear();
    this.calls.reset();
    this.emitter.reset();
    this.faults.clear();
    this.requests.clear();
    this.latencyMs = this.settings.latencyMs;
  }

  /** Stops every timer and event post so the process can exit. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.calls.reset();
    this.emitter.close();
  }
}
