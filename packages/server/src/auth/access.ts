/**
 * The access control every JSON-RPC call goes through: the per-connection rate limit,
 * then the credential (the session's, or the call's own auth_token, which then binds to
 * the session), then the method's declared minimum role.
 */
import {
  permissionDenied,
  roleSatisfies,
  type AccessControl,
  type CallContext,
  type MethodContract,
  type RpcSession,
} from '../rpc/index.js';
import type { Authenticator } from './authenticator.js';
import { AuthFailure, RateLimited } from './errors.js';
import { TokenBucket } from './token-bucket.js';

export interface RateLimit {
  requestsPerSecond: number;
  burst: number;
}

export class AuthAccessControl implements AccessControl {
  readonly #auth: Authenticator;
  readonly #now: () => number;
  /** Each connection's bucket, with the limit it was configured for. */
  readonly #buckets = new WeakMap<RpcSession, { bucket: TokenBucket; limit: RateLimit }>();
  #limit: RateLimit;

  constructor(options: { authenticator: Authenticator; now: () => number; rateLimit: RateLimit }) {
    this.#auth = options.authenticator;
    this.#now = options.now;
    this.#limit = options.rateLimit;
  }

  /** New limits apply to every connection from its next call. */
  setRateLimit(limit: RateLimit): void {
    this.#limit = { ...limit };
  }

  check(
    contract: MethodContract,
    authToken: string | undefined,
    ctx: CallContext,
  ): void | Promise<void> {
    this.#takeToken(ctx.session);
    if (authToken !== undefined) {
      return this.#auth.authenticate(authToken, ctx.session.remoteAddress, 'auth_token').then(
        (principal) => {
          ctx.session.principal = principal;
          this.#authorize(contract, ctx);
        },
        (error: unknown) => {
          // A refused credential ends whatever the connection held before: it must not
          // keep acting with an earlier, perhaps stronger, role.
          ctx.session.principal = null;
          throw error;
        },
      );
    }
    this.#authorize(contract, ctx);
  }

  #takeToken(session: RpcSession): void {
    const now = this.#now();
    const limit = this.#limit;
    const { requestsPerSecond, burst } = limit;
    let entry = this.#buckets.get(session);
    if (!entry) {
      entry = { bucket: new TokenBucket(requestsPerSecond, burst, now), limit };
      this.#buckets.set(session, entry);
    } else if (entry.limit !== limit) {
      entry.bucket.configure(requestsPerSecond, burst, now);
      entry.limit = limit;
    }
    const wait = entry.bucket.take(now);
    if (wait > 0) {
      throw new RateLimited(
        `Rate limit exceeded: at most ${requestsPerSecond} requests per second (bursts of ${burst}) per connection; retry after ${wait} ms.`,
        wait,
      );
    }
  }

  #authorize(contract: MethodContract, ctx: CallContext): void {
    if (contract.access === 'public') return;
    const { session } = ctx;
    const principal = session.principal;
    if (principal === null) throw new AuthFailure('authentication_required');
    try {
      this.#auth.check(principal);
    } catch (error) {
      session.principal = null;
      throw error;
    }
    if (!roleSatisfies(principal.role, contract.access)) {
      this.#auth.denied(principal, session.remoteAddress, contract.name, contract.access);
      throw permissionDenied(contract, principal.role);
    }
  }
}
