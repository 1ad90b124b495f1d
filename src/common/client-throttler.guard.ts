import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { clientKey } from '../auth/client-key';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';

/**
 * Rate limit per client: the token's subject when the caller presents a
 * bearer token that will be accepted (many IDIM servers may share one
 * egress address), otherwise the remote address. It runs before the
 * bearer check, so a flood of requests without a token or with a bad one
 * is limited like any other; the check itself runs once, shared with
 * `JwtAuthGuard`.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly auth: JwtAuthGuard,
  ) {
    super(options, storage, reflector);
  }

  /** The throttler passes the execution context as a second argument. */
  protected override async getTracker(
    request: Record<string, any>,
    context?: ExecutionContext,
  ): Promise<string> {
    const caller = context ? await this.auth.identify(context) : undefined;
    return clientKey(request as Request, caller);
  }
}
