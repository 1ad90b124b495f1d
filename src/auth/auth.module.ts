import { Logger, Module, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { authWarnings } from './auth-warnings';
import { EventSinkAuthGuard } from './event-sink-auth.guard';
import { GenesysAuthGuard } from './genesys-auth.guard';
import { GenesysService } from './genesys.service';
import { DEFAULT_JWKS_CACHE_OPTIONS } from './jwks-key-source';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JWKS_CACHE_OPTIONS, JwtVerifier } from './jwt-verifier.service';

/**
 * Who may call what: the token verifier, the Genesys check and the guards.
 * Public routes pick their own check with `@UseGuards(GenesysAuthGuard)` or
 * `@UseGuards(EventSinkAuthGuard)`.
 *
 * The application registers the global bearer guard itself, in its root
 * module and right after the rate-limit guard, which asks it who the caller
 * is: `{ provide: APP_GUARD, useExisting: JwtAuthGuard }`. Nest runs the
 * global guards of a module before those of the modules it imports, so a
 * guard registered here would not run where the root module puts it.
 */
@Module({
  providers: [
    { provide: JWKS_CACHE_OPTIONS, useValue: DEFAULT_JWKS_CACHE_OPTIONS },
    JwtVerifier,
    JwtAuthGuard,
    GenesysService,
    GenesysAuthGuard,
    EventSinkAuthGuard,
  ],
  exports: [
    JwtVerifier,
    JwtAuthGuard,
    GenesysService,
    GenesysAuthGuard,
    EventSinkAuthGuard,
  ],
})
export class AuthModule implements OnModuleInit {
  private readonly logger = new Logger(AuthModule.name);

  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    for (const warning of authWarnings(this.config)) {
      this.logger.warn(warning);
    }
  }
}
