import {
  Controller,
  Get,
  HttpCode,
  INestApplication,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { AuthModule } from '../../src/auth/auth.module';
import type { AuthenticatedRequest } from '../../src/auth/authenticated-client';
import { clientKey } from '../../src/auth/client-key';
import { EventSinkAuthGuard } from '../../src/auth/event-sink-auth.guard';
import { GenesysAuthGuard } from '../../src/auth/genesys-auth.guard';
import {
  DEFAULT_JWKS_CACHE_OPTIONS,
  JwksCacheOptions,
} from '../../src/auth/jwks-key-source';
import { JwtAuthGuard } from '../../src/auth/jwt-auth.guard';
import { JWKS_CACHE_OPTIONS } from '../../src/auth/jwt-verifier.service';
import { Public } from '../../src/auth/public.decorator';
import { ProblemDetailsFilter } from '../../src/common/problem-details.filter';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';

/**
 * Stand-ins for the real routes, one per kind of protection, that echo
 * what the guards put on the request.
 */
@Controller()
class ProbeController {
  @Get('room/private')
  privateRoute(@Req() request: AuthenticatedRequest) {
    return {
      sub: request.user?.sub ?? null,
      roles: request.user?.roles ?? [],
      client_key: clientKey(request),
    };
  }

  @Public()
  @Get('public/health')
  health() {
    return { status: 'alive' };
  }

  @Public()
  @UseGuards(GenesysAuthGuard)
  @Get('public/room/:name')
  publicRoom(
    @Param('name') name: string,
    @Req() request: AuthenticatedRequest,
  ) {
    return { name, genesys_user: request.genesysUser };
  }

  @Public()
  @UseGuards(EventSinkAuthGuard)
  @Post('public/event_sink')
  @HttpCode(200)
  eventSink() {
    return { status: 'accepted' };
  }
}

export interface AuthTestApp {
  readonly url: string;
  readonly app: INestApplication;
  close(): Promise<void>;
}

/**
 * Starts a Nest app with the real `AuthModule`, global bearer guard and
 * error filter on a free loopback port.
 *
 * @param env environment for `loadConfig`.
 * @param jwks cache settings overriding the production defaults.
 */
export async function startAuthTestApp(
  env: Record<string, string | undefined>,
  jwks: Partial<JwksCacheOptions> = {},
): Promise<AuthTestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.register(loadConfig(env)), AuthModule],
    controllers: [ProbeController],
    // As the application does: the bearer guard guards every route.
    providers: [{ provide: APP_GUARD, useClass: JwtAuthGuard }],
  })
    .overrideProvider(JWKS_CACHE_OPTIONS)
    .useValue({ ...DEFAULT_JWKS_CACHE_OPTIONS, ...jwks })
    .compile();

  const app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new ProblemDetailsFilter());
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}
