/**
 * Every error the API can return, declared once. A handler throws a ServiceError (or a
 * subclass) naming its kind; the JSON-RPC layer maps the kind to a code through
 * ERROR_CODES, which the compiler forces to be complete.
 */

export type ErrorKind =
  | 'parse_error'
  | 'invalid_request'
  | 'method_not_found'
  | 'invalid_params'
  | 'internal_error'
  | 'authentication_failed'
  | 'rate_limited'
  | 'permission_denied'
  | 'camera_not_found'
  | 'camera_unavailable'
  | 'recording_in_progress'
  | 'media_server_error'
  | 'file_not_found'
  | 'storage_low'
  | 'storage_critical'
  | 'invalid_filename'
  | 'storage_unavailable';

/** JSON-RPC error codes by kind: the single table (SPEC section 4). */
export const ERROR_CODES: Readonly<Record<ErrorKind, number>> = {
  parse_error: -32700,
  invalid_request: -32600,
  method_not_found: -32601,
  invalid_params: -32602,
  internal_error: -32603,
  authentication_failed: -32001,
  rate_limited: -32002,
  permission_denied: -32003,
  camera_not_found: -1000,
  camera_unavailable: -1001,
  recording_in_progress: -1006,
  media_server_error: -1003,
  file_not_found: -1004,
  storage_low: -1008,
  storage_critical: -1010,
  invalid_filename: -1011,
  /** A media directory is missing, unreadable or not writable. */
  storage_unavailable: -1012,
};

export type ErrorData = Record<string, unknown>;

/** An error meant for the client: its message is a sentence the user can act on. */
export class ServiceError extends Error {
  readonly kind: ErrorKind;
  readonly data: ErrorData | undefined;

  constructor(kind: ErrorKind, message: string, data?: ErrorData) {
    super(message);
    this.name = 'ServiceError';
    this.kind = kind;
    this.data = data;
  }

  get code(): number {
    return ERROR_CODES[this.kind];
  }
}

/** Params that failed validation; `param` names the offending parameter. */
export class InvalidParams extends ServiceError {
  constructor(message: string, data?: ErrorData) {
    super('invalid_params', message, data);
    this.name = 'InvalidParams';
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}

/** The kind for a code, for tests and documentation. */
export function kindOfCode(code: number): ErrorKind | undefined {
  return (Object.keys(ERROR_CODES) as ErrorKind[]).find((kind) => ERROR_CODES[kind] === code);
}
