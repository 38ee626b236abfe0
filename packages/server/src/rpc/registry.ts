/**
 * Method contracts and the registry. A contract declares a method's name, minimum role,
 * params and result schemas, the errors it answers and an example: the single
 * description that validates calls, types handlers, and generates the API reference and
 * the SDK types. Modules own their contracts and register a handler for each.
 */
import type { z } from 'zod';
import type { ErrorKind } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { Access, Role } from './roles.js';

export type ParamsSchema = z.ZodObject;

/** A call and its answer, for the API reference; a test checks both against the schemas. */
export interface MethodExample<
  P extends ParamsSchema = ParamsSchema,
  R extends z.ZodType = z.ZodType,
> {
  /** What the example shows, when a method has more than one. */
  readonly title?: string;
  readonly params: z.input<P>;
  readonly result: z.input<R>;
}

/**
 * The service errors a method answers, each with when it does, as a sentence. The errors
 * every call can get from the RPC layer (see `callErrors`) need no entry; one is given
 * when the method has a reason of its own (start_recording's duration rules).
 */
export type DeclaredErrors = Readonly<Partial<Record<ErrorKind, string>>>;

export interface MethodContract<
  P extends ParamsSchema = ParamsSchema,
  R extends z.ZodType = z.ZodType,
> {
  readonly name: string;
  /** One sentence for the API reference. */
  readonly summary: string;
  /** More for the reference when the summary does not say it all: rules, defaults, caveats. */
  readonly description?: string;
  readonly access: Access;
  readonly params: P;
  readonly result: R;
  readonly errors: DeclaredErrors;
  readonly examples: readonly [MethodExample<P, R>, ...MethodExample<P, R>[]];
  /**
   * Other names a parameter is accepted under (alias → parameter), for clients of earlier
   * implementations of the API; the reference lists them in its migration section.
   */
  readonly aliases?: Readonly<Record<string, string>>;
}

export function defineMethod<P extends ParamsSchema, R extends z.ZodType>(
  contract: MethodContract<P, R>,
): MethodContract<P, R> {
  return contract;
}

/**
 * The errors any call of the method can get before or around its handler: a refused or
 * missing credential, a role too low, params that fail the schema, the per-connection rate
 * limit, and an unexpected failure. With the declared ones, every error it can answer.
 */
export function callErrors(contract: MethodContract): { kind: ErrorKind; when: string }[] {
  const takesParams = Object.keys(contract.params.shape).length > 0;
  const errors: { kind: ErrorKind; when: string }[] = [
    {
      kind: 'invalid_params',
      when: takesParams
        ? 'A parameter is missing, unknown or outside its limits.'
        : 'Any parameter is given: the method takes none.',
    },
  ];
  if (contract.access !== 'public') {
    errors.push({
      kind: 'authentication_failed',
      when: 'The connection has not authenticated, its credential expired or was revoked, or an `auth_token` in the params is refused.',
    });
  }
  if (contract.access === 'operator' || contract.access === 'admin') {
    errors.push({
      kind: 'permission_denied',
      when: `The credential's role is below ${contract.access}.`,
    });
  }
  errors.push(
    { kind: 'rate_limited', when: 'The connection calls faster than its rate limit.' },
    { kind: 'internal_error', when: 'The server failed unexpectedly.' },
  );
  return errors;
}

/** Every error kind a method may answer: its declared ones and those of every call. */
export function answerableErrors(contract: MethodContract): Set<ErrorKind> {
  return new Set([
    ...(Object.keys(contract.errors) as ErrorKind[]),
    ...callErrors(contract).map((e) => e.kind),
  ]);
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
