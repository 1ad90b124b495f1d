import { Injectable } from '@nestjs/common';
import { PexipCall, PexipCallObserver } from '../pexip/pexip-call-observer';
import { MetricsService } from './metrics.service';

/** Times and counts every attempt the Pexip adapter makes. */
@Injectable()
export class PexipMetricsObserver implements PexipCallObserver {
  constructor(private readonly metrics: MetricsService) {}

  observe(call: PexipCall): void {
    const labels = {
      method: call.method,
      route: call.route,
      status: String(call.status),
    };
    this.metrics.pexipDuration.observe(labels, call.durationMs / 1000);
    if (typeof call.status !== 'number' || call.status >= 400) {
      this.metrics.pexipErrors.inc(labels);
    }
  }
}
