import { Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { clientKey } from '../auth/client-key';

/**
 * Rate limit per client: the token's subject when the caller presented a
 * valid bearer token (many IDIM servers may share one egress address),
 * otherwise the remote address.
 */
@Injectable()
export class ClientThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(
    request: Record<string, any>,
  ): Promise<string> {
    return clientKey(request as Request);
  }
}
