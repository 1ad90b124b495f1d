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
