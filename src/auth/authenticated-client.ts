import type { Request } from 'express';
import type { JWTPayload } from 'jose';

/**
 * The caller of a private route, from its verified bearer token. Set on
 * `request.user` by `JwtAuthGuard`; absent when authentication is off.
 */
export interface AuthenticatedClient {
  /** `sub` claim: for Entra client credentials, the caller's object id. */
  readonly sub: string;
  /** App roles from the `roles` claim; empty when the token has none. */
  readonly roles: readonly string[];
  /** The calling application (`azp`, or `appid` on Entra v1 tokens). */
  readonly clientId: string | undefined;
  /** Every verified claim, for code that needs one not listed here. */
  readonly claims: JWTPayload;
}

/** The Genesys Cloud user behind `x-auth-token`, set by `GenesysAuthGuard`. */
export interface GenesysUser {
  readonly id: string;
  readonly divisionId: string | undefined;
}

/** An Express request as the auth guards leave it. */
export type AuthenticatedRequest = Request & {
  user?: AuthenticatedClient;
  genesysUser?: GenesysUser;
};
