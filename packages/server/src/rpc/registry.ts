/**
 * Method contracts and the registry. A contract declares a method's name, minimum role,
 * params and result schemas: the single description that validates calls, types
 * handlers, and generates the API reference and the SDK types. Modules own their
 * contracts and register a handler for each.
 */
import type { z } from 'zod';
import type { ErrorKind } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { Access, Role } from './roles.js';

export type ParamsSchema = z.ZodObject;

export interface MethodContract<
  P extends ParamsSchema = ParamsSchema,
  R extends z.ZodType = z.ZodType,
> {
  readonly name: string;
  /** One sentence for the API reference. */
  readonly summary: string;
  readonly access: Access;
  readonly params: P;
  readonly result: R;
  /** Service errors the method may return, beyond the protocol's own. */
  readonly errors: readonly ErrorKind[];
}

export function defineMethod<P extends ParamsSchema, R extends z.ZodType>(
  contract: Omit<MethodContract<P, R>, 'errors'> & { errors?: readonly ErrorKind[] },
): MethodContract<P, R> {
  return { errors: [], ...contract };
}

/** Who is calling, once authenticated. */
export interface Principal {
  readonly role: Role;
  /** The JWT `sub`, or the API key's name. */
  readonly subject: string;
  readonly credential: 'jwt' | 'api_key';
  /** When the credential expires (epoch ms), or null for API keys. */
  readonly expiresAt: number | null;
  /** The API key's id, so a revocation takes effect on the next call. */
  readonly keyId?: string;
  /** Identifies this authentication in logs and in the authenticate result. */
  readonly sessionId: string;
}

/** The connection a call arrives on, as the RPC layer sees it. */
export interface RpcSession {
  readonly id: string;
  readonly remoteAddress: string;
  /**
   * The host name the client used to reach the service (its Host header, without the
   * port), for URLs the client can open; null when it sent none that is valid.
   */
  readonly host: string | null;
  /** Whether the client reached the service over TLS (its own, or a trusted proxy's). */
  readonly secure?: boolean;
  /** Set by authentication; null before it (and after an expiry). */
  principal: Principal | null;
}

export interface CallContext {
  readonly session: RpcSession;
  readonly correlationId: string;
  readonly method: string;
  /** A child logger carrying the session, method and correlation id. */
  readonly log: Logger;
}

export type Params<C extends MethodContract> = z.output<C['params']>;
export type Result<C extends MethodContract> = z.input<C['result']>;
export type Handler<C extends MethodContract> = (
  params: Params<C>,
  ctx: CallContext,
) => Result<C> | Promise<Result<C>>;

export interface RegisteredMethod {
  readonly contract: MethodContract;
  readonly handler: (params: unknown, ctx: CallContext) => unknown;
}

export class MethodRegistry {
  readonly #methods = new Map<string, RegisteredMethod>();
  #names: readonly string[] | undefined;

  register<C extends MethodContract>(contract: C, handler: Handler<C>): void {
    if (this.#methods.has(contract.name)) {
      throw new Error(`method ${contract.name} is registered twice`);
    }
    this.#names = undefined;
    this.#methods.set(contract.name, {
      contract,
      handler: handler as (params: unknown, ctx: CallContext) => unknown,
    });
  }

  get(name: string): RegisteredMethod | undefined {
    return this.#methods.get(name);
  }

  contracts(): MethodContract[] {
    return [...this.#methods.values()].map((m) => m.contract);
  }

  /** Method names in alphabetical order (computed once per registration change). */
  names(): readonly string[] {
    this.#names ??= [...this.#methods.keys()].sort();
    return this.#names;
  }
}
