import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PexipService } from '../pexip/pexip.service';

/** Readiness of the Pexip management node: one cheap list call. */
@Injectable()
export class PexipHealthIndicator {
  constructor(
    private readonly pexip: PexipService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async isHealthy(key: string) {
    const indicator = this.indicators.check(key);
    const started = Date.now();
    try {
      await this.pexip.ping();
      return indicator.up({ responseTimeMs: Date.now() - started });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
