import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { createHash } from 'node:crypto';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { CleanupModule } from './cleanup/cleanup.module';
import { ClientThrottlerGuard } from './common/client-throttler.guard';
import { HitWindowThrottlerStorage } from './common/hit-window.throttler-storage';
import { loggerParams } from './common/logging';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PexipModule } from './pexip/pexip.module';
import { PoolModule } from './pool/pool.module';
import { QueueModule } from './queue/queue.module';
import { RoomModule } from './room/room.module';

export interface AppModuleOptions {
  /** Where logs go; standard output when unset. Tests capture them. */
  readonly logDestination?: DestinationStream;
}

/**
 * The whole service. Built from a validated configuration so that tests
 * can run several differently configured instances in one process.
 */
@Module({})
export class AppModule {
  static register(
    config: AppConfig,
    options: AppModuleOptions = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggerModule.forRoot(loggerParams(config, options.logDestination)),
        ScheduleModule.forRoot(),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: config.rateLimitPerMinute }],
          errorMessage:
            'Too many requests from this client; try again after the Retry-After delay.',
          // Counts in constant time per request, however many hits a
          // client has in the window; answers as the built-in storage.
          storage: new HitWindowThrottlerStorage(),
          // One budget per client across all routes, not one per route.
          generateKey: (_context, tracker, name) =>
            createHash('sha256').update(`${name}:${tracker}`).digest('hex'),
        }),
        MetricsModule,
        QueueModule,
        PexipModule,
        AuthModule,
        PoolModule,
        RoomModule,
        CleanupModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        // Order matters: the rate limiter runs first, so that requests the
        // bearer check refuses are counted too; it asks that check who the
        // caller is, to count a token's subject rather than its address.
        { provide: APP_GUARD, useClass: ClientThrottlerGuard },
        { provide: APP_GUARD, useExisting: JwtAuthGuard },
      ],
    };
  }
}
