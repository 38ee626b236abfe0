import { ServiceError } from '../errors/index.js';

export type AuthFailureReason =
  'authentication_required' | 'token_expired' | 'invalid_token' | 'api_key_revoked';

const MESSAGES: Record<AuthFailureReason, string> = {
  authentication_required:
    'Authentication required: call authenticate with a token or API key first, or pass auth_token in the params.',
  token_expired: 'Authentication failed: token expired; get a new token and authenticate again.',
  invalid_token:
    'Authentication failed: invalid token; use a token minted by this service (camera-service token) or an API key (camera-service keys create).',
  api_key_revoked: 'Authentication failed: API key revoked; ask an admin for a new key.',
};

/**
 * -32001. The reason says what the user can do about it; it never says which internal
 * check failed (signature, algorithm, claim...).
 */
export class AuthFailure extends ServiceError {
  readonly reason: AuthFailureReason;

  constructor(reason: AuthFailureReason) {
    super('authentication_failed', MESSAGES[reason], { reason });
    this.name = 'AuthFailure';
    this.reason = reason;
  }
}

/** -32002, with how long to wait. */
export class RateLimited extends ServiceError {
  constructor(message: string, retryAfterMs: number) {
    super('rate_limited', message, {
      retry_after_ms: retryAfterMs,
      retry_after: Math.ceil(retryAfterMs / 1000),
    });
    this.name = 'RateLimited';
  }
}
