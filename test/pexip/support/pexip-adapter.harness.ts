import { Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { loadConfig } from '../../../src/config/app-config';
import { ConfigModule } from '../../../src/config/config.module';
import {
  PEXIP_CALL_OBSERVER,
  PexipCall,
  PexipCallObserver,
} from '../../../src/pexip/pexip-call-observer';
import { PexipModule } from '../../../src/pexip/pexip.module';
import { PexipService } from '../../../src/pexip/pexip.service';
import { captureLogs } from './log-capture';
import { ScriptedPexipServer } from './scripted-pexip.server';

/** The adapter as the application wires it, plus what tests look at. */
export interface PexipAdapterHarness {
  pexip: PexipService;
  /** Every attempt the adapter reported, in order. */
  calls: PexipCall[];
  /** Any provider of the module, for tests of one part. */
  get<T>(type: new (...args: never[]) => T): T;
  close(): Promise<void>;
}

/**
 * Builds `PexipModule` in a Nest testing module, with the configuration
 * loaded from `env` exactly as the service loads it and an observer that
 * records every attempt.
 *
 * @example const { pexip, close } = await startPexipAdapter({ PEXIP_URL: url });
 */
export async function startPexipAdapter(
  env: Record<string, string>,
): Promise<PexipAdapterHarness> {
  const calls: PexipCall[] = [];
  const observer: PexipCallObserver = { observe: (call) => calls.push(call) };

  // The observer comes from a global module, as the metrics module will
  // provide it.
  @Module({
    providers: [{ provide: PEXIP_CALL_OBSERVER, useValue: observer }],
    exports: [PEXIP_CALL_OBSERVER],
  })
  class RecordingObserverModule {}

  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [
      ConfigModule.register(loadConfig({ NODE_ENV: 'test', ...env })),
      { module: RecordingObserverModule, global: true },
      PexipModule,
    ],
  }).compile();
  await moduleRef.init();

  return {
    pexip: moduleRef.get(PexipService),
    calls,
    get: (type) => moduleRef.get(type),
    close: () => moduleRef.close(),
  };
}

/** What a spec of the adapter against a scripted server works with. */
export interface ScriptedPexipRig {
  /** The scripted Pexip of the current test. */
  readonly server: ScriptedPexipServer;
  /** The logs the current test captured. */
  readonly logs: ReturnType<typeof captureLogs>;
  /** Builds the adapter against the current server, closed after the test. */
  start(env?: Record<string, string>): Promise<PexipAdapterHarness>;
}

/**
 * Gives each test of the calling spec a fresh scripted server, captured
 * logs and, on request, an adapter pointed at the server; all of it is
 * closed after the test.
 *
 * @param defaults environment every `start` begins from.
 */
export function useScriptedPexip(
  defaults: Record<string, string> = {},
): ScriptedPexipRig {
  let server: ScriptedPexipServer | undefined;
  let logs: ReturnType<typeof captureLogs> | undefined;
  let adapter: PexipAdapterHarness | undefined;

  beforeEach(async () => {
    logs = captureLogs();
    server = await ScriptedPexipServer.start();
  });

  afterEach(async () => {
    await adapter?.close();
    adapter = undefined;
    await server?.close();
    logs?.restore();
  });

  return {
    get server() {
      return server!;
    },
    get logs() {
      return logs!;
    },
    async start(env = {}) {
      adapter = await startPexipAdapter({
        PEXIP_URL: server!.url,
        PEXIP_TIMEOUT_MS: '2000',
        PEXIP_MAX_RETRIES: '3',
        ...defaults,
        ...env,
      });
      return adapter;
    },
  };
}
