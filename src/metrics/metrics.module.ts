import { Global, Module } from '@nestjs/common';
import { PEXIP_CALL_OBSERVER } from '../pexip/pexip-call-observer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { PexipMetricsObserver } from './pexip-metrics.observer';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    { provide: PEXIP_CALL_OBSERVER, useClass: PexipMetricsObserver },
  ],
  exports: [MetricsService, PEXIP_CALL_OBSERVER],
})
export class MetricsModule {}
