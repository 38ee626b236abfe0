/**
 * Turns a credential (JWT or API key) into a Principal, and decides on every call whether
 * a bound Principal still holds (expiry, revocation). Failures are throttled per address
 * and written to the audit log.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/index.js';
import type { Principal } from '../rpc/index.js';
import type { ApiKeyStore } from './api-keys.js';
import { looksLikeApiKey } from './api-keys.js';
import { AuthFailure, RateLimited } from './errors.js';
import type { FailureThrottle } from './failure-throttle.js';
import type { JwtService } from './jwt.js';

export interface AuthenticatorOptions {
  jwt: JwtService;
  keys: ApiKeyStore;
  throttle: FailureThrottle;
  audit: Logger;
  now: () => number;
}

export class Authenticator {
  readonly #jwt: JwtService;
  readonly #keys: ApiKeyStore;
  readonly #throttle: FailureThrottle;
  readonly #audit: Logger;
  readonly #now: () => number;

  constructor(options: AuthenticatorOptions) {
    this.#jwt = options.jwt;
    this.#keys = options.keys;
    this.#throttle = options.throttle;
    this.#audit = options.audit;
    this.#now = options.now;
  }

  /**
   * Verifies a credential from `remote`; throws AuthFailure (-32001), or RateLimited
   * (-32002) for a failure from an address that has failed too often lately. A valid
   * credential is accepted whatever the address did before: one broken client behind a
   * shared address (NAT, a proxy, CI on 127.0.0.1) must not lock everyone else out.
   */
  async authenticate(token: string, remote: string, via: string): Promise<Principal> {
    try {
      const principal = await this.#verify(token);
      this.#audit.info(
        {
          event: 'auth_success',
          remote,
          via,
          subject: principal.subject,
          role: principal.role,
          credential: principal.credential,
          auth_session: principal.sessionId,
        },
        'audit: authentication succeeded',
      );
      return principal;
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      const now = this.#now();
      const wait = this.#throttle.blockedFor(remote, now);
      this.#throttle.recordFailure(remote, now);
      const credential = looksLikeApiKey(token) ? 'api_key' : 'jwt';
      if (wait > 0) {
        this.#audit.warn(
          {
            event: 'auth_throttled',
            remote,
            via,
            reason: error.reason,
            credential,
            retry_after_ms: wait,
          },
          'audit: authentication failed; address throttled',
        );
        throw new RateLimited(
          `${error.message} This address has failed too often lately, so failures are refused for the next ${Math.ceil(wait / 1000)} s; a valid credential is still accepted.`,
          wait,
        );
      }
      this.#audit.warn(
        { event: 'auth_failure', remote, via, reason: error.reason, credential },
        'audit: authentication failed',
      );
      throw error;
    }
  }

  /** Writes the audit line for a caller whose role is below what `target` needs. */
  denied(principal: Principal, remote: string, target: string, required: string): void {
    this.#audit.warn(
      {
        event: 'permission_denied',
        remote,
        subject: principal.subject,
        role: principal.role,
        target,
        required_role: required,
      },
      'audit: permission denied',
    );
  }

  /** Throws AuthFailure when a bound principal no longer holds. */
  check(principal: Principal): void {
    if (principal.expiresAt !== null && principal.expiresAt <= this.#now()) {
      throw new AuthFailure('token_expired');
    }
    if (principal.keyId !== undefined && !this.#keys.isActive(principal.keyId)) {
      throw new AuthFailure('api_key_revoked');
    }
  }

  async #verify(token: string): Promise<Principal> {
    const sessionId = randomUUID();
    if (looksLikeApiKey(token)) {
      const result = this.#keys.verify(token);
      if (!result.ok) throw new AuthFailure(result.reason);
      const { record } = result;
      return {
        role: record.role,
        subject: record.name,
        credential: 'api_key',
        expiresAt: null,
        keyId: record.id,
        sessionId,
      };
    }
    const verified = await this.#jwt.verify(token);
    return {
      role: verified.role,
      subject: verified.subject,
      credential: 'jwt',
      expiresAt: verified.expiresAt,
      sessionId,
    };
  }
}
