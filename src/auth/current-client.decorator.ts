import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type {
  AuthenticatedClient,
  AuthenticatedRequest,
} from './authenticated-client';

/**
 * Injects the verified caller of a private route, or `undefined` when
 * authentication is off.
 *
 * @example list(@CurrentClient() client?: AuthenticatedClient) {}
 */
export const CurrentClient = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedClient | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
