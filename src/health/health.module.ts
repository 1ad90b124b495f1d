import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PexipModule } from '../pexip/pexip.module';
import { HealthController } from './health.controller';
import { PexipHealthIndicator } from './pexip.health';
import { ShutdownState } from './shutdown-state';

@Module({
  imports: [TerminusModule, PexipModule],
  controllers: [HealthController],
  providers: [PexipHealthIndicator, ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
