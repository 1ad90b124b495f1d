import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../auth/public.decorator';
import { QueueHealthIndicator } from '../queue/queue.health';
import { HealthResponseDto } from './health.response.dto';
import { PexipHealthIndicator } from './pexip.health';
import { ShutdownState } from './shutdown-state';

/**
 * Probes for Kubernetes. Liveness says only that the process answers, so a
 * Pexip outage never gets the pods restarted; readiness says whether this
 * instance can do useful work right now.
 */
@ApiTags('health')
@Public()
@SkipThrottle()
@Controller('public/health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pexip: PexipHealthIndicator,
    private readonly queue: QueueHealthIndicator,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Liveness',
    description: 'Never calls Pexip or the queue store.',
  })
  @ApiOkResponse({ type: HealthResponseDto })
  alive(): HealthResponseDto {
    return { status: 'alive', timestamp: pythonStyleTimestamp(new Date()) };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness',
    description:
      'Pexip reachability and the queue store, in terminus shape; 503 when either is down or the instance is shutting down.',
  })
  ready() {
    if (this.shutdown.isDraining) {
      throw new ServiceUnavailableException({
        status: 'error',
        info: {},
        error: { shutdown: { status: 'down', message: 'shutting down' } },
        details: { shutdown: { status: 'down', message: 'shutting down' } },
      });
    }
    return this.health.check([
      () => this.pexip.isHealthy('pexip'),
      () => this.queue.isHealthy('queue'),
    ]);
  }
}

/**
 * The original service answered `datetime.utcnow().isoformat()`: no zone,
 * six fractional digits. Clients may parse it that way, so keep the form.
 */
export function pythonStyleTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, -1)}000`;
}
