/**
 * The JSON-RPC 2.0 engine, independent of any transport: text in, text (or nothing) out.
 * Order for each call: envelope → method lookup → access check → params validation →
 * handler → result. Every failure becomes an error object here, once, through the code
 * table; anything that is not a ServiceError is logged and answered as -32603 without
 * internal detail.
 */
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { ERROR_CODES, InvalidParams, ServiceError, type ErrorKind } from '../errors/index.js';
import { newCorrelationId, type Logger } from '../logging/index.js';
import {
  checkEnvelope,
  failure,
  success,
  type JsonRpcErrorObject,
  type JsonRpcResponse,
} from './protocol.js';
import type { CallContext, MethodContract, MethodRegistry, RpcSession } from './registry.js';
import { roleSatisfies, type Role } from './roles.js';

/** Decides whether a session may call a method; throws a ServiceError when not. */
export interface AccessControl {
  check(
    contract: MethodContract,
    authToken: string | undefined,
    ctx: CallContext,
  ): void | Promise<void>;
}

/** -32003, naming the role the method needs and the one the session has. */
export function permissionDenied(contract: MethodContract, role: Role): ServiceError {
  return new ServiceError(
    'permission_denied',
    `Permission denied: ${contract.name} needs the ${contract.access} role; this session has the ${role} role.`,
    { required_role: contract.access, role },
  );
}

/** The role check every method goes through: its declared access against the session's role. */
export const roleAccess: AccessControl = {
  check(contract, _authToken, ctx) {
    if (contract.access === 'public') return;
    const role = ctx.session.principal?.role ?? null;
    if (role === null) {
      throw new ServiceError(
        'authentication_failed',
        'Authentication required: call authenticate with a token or API key first, or pass auth_token in the params.',
      );
    }
    if (!roleSatisfies(role, contract.access)) {
      throw permissionDenied(contract, role);
    }
  },
};

export interface CallEvent {
  /** The method name, `(unknown)` for methods that do not exist, `(invalid)` for bad envelopes. */
  method: string;
  /** `ok`, or the error kind. */
  outcome: 'ok' | ErrorKind;
  durationMs: number;
  notification: boolean;
}

export interface DispatcherOptions {
  registry: MethodRegistry;
  log: Logger;
  access?: AccessControl;
  maxBatch: number;
  /** Checks every result against its contract (tests and development); a mismatch is a bug. */
  validateResults?: boolean;
  onCall?: (event: CallEvent) => void;
}

export class Dispatcher {
  readonly #registry: MethodRegistry;
  readonly #log: Logger;
  readonly #access: AccessControl;
  readonly #validateResults: boolean;
  readonly #onCall: ((event: CallEvent) => void) | undefined;
  #maxBatch: number;

  constructor(options: DispatcherOptions) {
    this.#registry = options.registry;
    this.#log = options.log;
    this.#access = options.access ?? roleAccess;
    this.#maxBatch = options.maxBatch;
    this.#validateResults = options.validateResults ?? false;
    this.#onCall = options.onCall;
  }

  setMaxBatch(value: number): void {
    this.#maxBatch = value;
  }

  /** Handles one message (a request, a notification or a batch); null means no reply. */
  async handle(text: string, session: RpcSession): Promise<string | null> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#report('(invalid)', 'parse_error', 0, false);
      return JSON.stringify(
        failure(null, errorObject('parse_error', 'Parse error: the message is not valid JSON.')),
      );
    }
    if (!Array.isArray(message)) {
      const response = await this.#handleOne(message, session);
      return response === null ? null : this.#encode(response);
    }
    if (message.length === 0 || message.length > this.#maxBatch) {
      this.#report('(invalid)', 'invalid_request', 0, false);
      const reason =
        message.length === 0
          ? 'Invalid request: the batch is empty; send at least one request.'
          : `Invalid request: a batch holds at most ${this.#maxBatch} requests; this one has ${message.length}. Split it.`;
      return JSON.stringify(failure(null, errorObject('invalid_request', reason)));
    }
    const responses = await Promise.all(message.map((item) => this.#handleOne(item, session)));
    const replies = responses.filter((r): r is JsonRpcResponse => r !== null);
    return replies.length === 0 ? null : this.#encode(replies);
  }

  async #handleOne(value: unknown, session: RpcSession): Promise<JsonRpcResponse | null> {
    const started = performance.now();
    const check = checkEnvelope(value);
    if (!check.ok) {
      this.#report('(invalid)', 'invalid_request', performance.now() - started, false);
      return failure(check.id, errorObject('invalid_request', `Invalid request: ${check.reason}.`));
    }
    const { request, notification } = check;
    const id = request.id ?? null;
    const registered = this.#registry.get(request.method);
    const ctx = this.#context(session, request.method);
    try {
      if (!registered) {
        throw new ServiceError(
          'method_not_found',
          `Method not found: "${request.method}" is not a method of this server; check the name against the API reference.`,
          { method: request.method },
        );
      }
      const { contract } = registered;
      const { rest, authToken } = takeAuthToken(request.params, contract);
      // Await only what is really asynchronous: a synchronous call then completes without
      // yielding, and its measured duration is its own, not time queued behind others.
      const checked = this.#access.check(contract, authToken, ctx);
      if (checked) await checked;
      const params = validateParams(contract, unalias(byName(rest, contract), contract));
      let result: unknown = registered.handler(params, ctx);
      if (isPromiseLike(result)) result = await result;
      if (this.#validateResults) checkResult(contract, result);
      this.#report(contract.name, 'ok', performance.now() - started, notification, ctx);
      return notification ? null : success(id, result);
    } catch (error) {
      const kind = error instanceof ServiceError ? error.kind : 'internal_error';
      const method = registered ? request.method : '(unknown)';
      this.#report(method, kind, performance.now() - started, notification, ctx);
      return notification ? null : failure(id, toErrorObject(error, ctx));
    }
  }

  /** The call's context; its correlation id and logger are made only when used. */
  #context(session: RpcSession, method: string): CallContext {
    const base = this.#log;
    let correlationId: string | undefined;
    let log: Logger | undefined;
    return {
      session,
      method,
      get correlationId() {
        correlationId ??= newCorrelationId();
        return correlationId;
      },
      get log() {
        log ??= base.child({ session: session.id, method, correlation_id: this.correlationId });
        return log;
      },
    };
  }

  #report(
    method: string,
    outcome: CallEvent['outcome'],
    durationMs: number,
    notification: boolean,
    ctx?: CallContext,
  ): void {
    this.#onCall?.({ method, outcome, durationMs, notification });
    if (ctx && this.#log.isLevelEnabled('debug')) {
      ctx.log.debug(
        { outcome, duration_ms: Number(durationMs.toFixed(3)), notification },
        'call handled',
      );
    }
  }

  #encode(response: JsonRpcResponse | JsonRpcResponse[]): string {
    try {
      return JSON.stringify(response);
    } catch (error) {
      this.#log.error({ err: error }, 'a method returned a result that cannot be serialised');
      const id = Array.isArray(response) ? null : response.id;
      return JSON.stringify(
        failure(
          id,
          errorObject('internal_error', 'Internal error: the result could not be encoded.'),
        ),
      );
    }
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function errorObject(kind: ErrorKind, message: string, data?: unknown): JsonRpcErrorObject {
  return data === undefined
    ? { code: ERROR_CODES[kind], message }
    : { code: ERROR_CODES[kind], message, data };
}

/** The one place an unknown throw becomes a client-safe error object. */
function toErrorObject(error: unknown, ctx: CallContext): JsonRpcErrorObject {
  if (error instanceof ServiceError) return errorObject(error.kind, error.message, error.data);
  ctx.log.error({ err: error }, 'method failed with an unexpected error');
  return errorObject(
    'internal_error',
    `Internal error: the server could not complete ${ctx.method}. Quote correlation id ${ctx.correlationId} when reporting it.`,
    { correlation_id: ctx.correlationId },
  );
}

const NO_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({});
const paramNameCache = new WeakMap<MethodContract, readonly string[]>();

/** The contract's parameter names in declaration order (computed once per contract). */
function paramNames(contract: MethodContract): readonly string[] {
  let names = paramNameCache.get(contract);
  if (!names) {
    names = Object.keys(contract.params.shape);
    paramNameCache.set(contract, names);
  }
  return names;
}

/**
 * Takes `auth_token` out of by-name params for the access check (unless the method
 * declares it as its own parameter). Nothing else about the params is looked at before
 * access is granted, so an unauthorised caller learns nothing of a method's parameters.
 */
function takeAuthToken(
  raw: unknown,
  contract: MethodContract,
): { rest: unknown; authToken: string | undefined } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { rest: raw, authToken: undefined };
  }
  const given = raw as Record<string, unknown>;
  if (given.auth_token === undefined || paramNames(contract).includes('auth_token')) {
    return { rest: given, authToken: undefined };
  }
  const { auth_token: token, ...rest } = given;
  if (typeof token !== 'string') {
    throw new InvalidParams(
      'Invalid params: "auth_token" must be a string (a JWT or an API key).',
      {
        param: 'auth_token',
      },
    );
  }
  return { rest, authToken: token };
}

/** By-name params pass through; by-position params map onto the declared names in order. */
function byName(raw: unknown, contract: MethodContract): Record<string, unknown> {
  if (raw === undefined) return NO_PARAMS;
  if (!Array.isArray(raw)) return raw as Record<string, unknown>;
  const names = paramNames(contract);
  if (raw.length > names.length) {
    const takes =
      names.length === 0
        ? 'no parameters'
        : `at most ${names.length} positional parameters (${names.join(', ')})`;
    throw new InvalidParams(
      `Invalid params: ${contract.name} takes ${takes}; ${raw.length} ${raw.length === 1 ? 'was' : 'were'} given.`,
    );
  }
  const params: Record<string, unknown> = {};
  raw.forEach((value: unknown, i) => (params[names[i] as string] = value));
  return params;
}

/**
 * Renames the parameters given under an alias the contract declares (`token` for
 * `auth_token`); both names at once are refused, as neither is clearly meant.
 */
function unalias(
  params: Record<string, unknown>,
  contract: MethodContract,
): Record<string, unknown> {
  const aliases = contract.aliases;
  if (aliases === undefined) return params;
  let renamed: Record<string, unknown> | undefined;
  for (const [alias, name] of Object.entries(aliases)) {
    if (!Object.hasOwn(params, alias)) continue;
    if (Object.hasOwn(params, name)) {
      throw new InvalidParams(
        `Invalid params: "${alias}" is another name for "${name}"; give one of them, not both.`,
        { param: alias, reason: 'given twice' },
      );
    }
    renamed ??= { ...params };
    renamed[name] = renamed[alias];
    delete renamed[alias];
  }
  return renamed ?? params;
}

function isEmpty(params: Record<string, unknown>): boolean {
  for (const _key in params) return false;
  return true;
}

function validateParams(contract: MethodContract, params: Record<string, unknown>): unknown {
  const names = paramNames(contract);
  // Most calls of parameterless methods carry no params: nothing to validate.
  if (names.length === 0 && isEmpty(params)) return NO_PARAMS;
  const parsed = contract.params.safeParse(params, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  if (issue.code === 'unrecognized_keys') {
    const param = issue.keys[0] as string;
    const takes = names.length === 0 ? 'takes no parameters' : `takes ${names.join(', ')}`;
    throw new InvalidParams(
      `Invalid params: unknown parameter "${param}"; ${contract.name} ${takes}.`,
      {
        param,
        reason: 'unknown parameter',
      },
    );
  }
  const param = issue.path.map(String).join('.') || '(params)';
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const reason = missing ? `is required (${issue.message})` : issue.message;
  throw new InvalidParams(`Invalid params: "${param}" ${reason}.`, { param, reason });
}

function checkResult(contract: MethodContract, result: unknown): void {
  const parsed = contract.result.safeParse(result);
  if (!parsed.success) {
    throw new Error(
      `${contract.name} returned a result that breaks its contract: ${parsed.error.message}`,
    );
  }
}
