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
  | 'not_recording'
  | 'media_server_error'
  | 'file_not_found'
  | 'storage_low'
  | 'storage_critical'
  | 'invalid_filename'
  | 'storage_unavailable'
  | 'api_key_not_found';

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
  /** stop_recording on a camera that is not recording (the SPEC leaves -1007 free). */
  not_recording: -1007,
  media_server_error: -1003,
  file_not_found: -1004,
  storage_low: -1008,
  storage_critical: -1010,
  invalid_filename: -1011,
  /** A media directory is missing, unreadable or not writable. */
  storage_unavailable: -1012,
  /** revoke_api_key with an id no active key has. */
  api_key_not_found: -1013,
};

/**
 * What each error means to the user who gets it, for the API reference's error table: a
 * sentence, naming the `data` fields that say more. A method's contract says when it
 * answers each of its errors.
 */
export const ERROR_MEANINGS: Readonly<Record<ErrorKind, string>> = {
  parse_error: 'The message is not valid JSON.',
  invalid_request:
    'The message is not a JSON-RPC 2.0 request, or the batch is empty or larger than `limits.max_batch_requests`.',
  method_not_found: 'No method has that name (names are case-sensitive).',
  invalid_params:
    'A parameter is missing, unknown, of the wrong type or out of its limits; `data.param` names it and `data.reason` says why.',
  internal_error:
    'The server failed unexpectedly; `data.correlation_id` finds the failure in its log.',
  authentication_failed:
    'No valid credential: the connection has not authenticated, or the token is invalid, expired or revoked (`data.reason`). Authenticate again.',
  rate_limited:
    'Too many calls on this connection, too many failed authentications from this address, or the server is busy; retry after `data.retry_after_ms` milliseconds.',
  permission_denied:
    "The credential's role (`data.role`) is below the one the method needs (`data.required_role`).",
  camera_not_found:
    'No camera has that device, stream name or id; get_camera_list lists the cameras.',
  camera_unavailable:
    'The camera is known but disconnected or in error (`data.status`), or its stream could not be read.',
  recording_in_progress:
    'The camera is recording already (`data.session_id`), or the file is being recorded.',
  not_recording: 'The camera is not recording: there is nothing to stop.',
  media_server_error:
    'The media server (MediaMTX) failed or is not answering; the service retries.',
  file_not_found: 'No file has that name; the list methods list the files.',
  storage_low:
    'The recordings disk has reached `storage.block_percent`: new recordings are refused until space is freed.',
  storage_critical:
    'The disk is full, or has reached `storage.critical_percent`: recordings are stopped and refused.',
  invalid_filename:
    'The file name is not a plain name with an accepted extension, or a file of that name exists already.',
  storage_unavailable:
    'A media directory is missing, unreadable or not writable; `data.directory` names its configuration key.',
  api_key_not_found: 'No active API key has that id; list_api_keys lists the keys.',
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

/**
 * Kinds in the order the API reference lists them: by code, the service's own first
 * (-1000, -1001, ...), then authentication (-32001...), then JSON-RPC's (-32600...).
 */
export function byCode(
  kinds: readonly ErrorKind[] = Object.keys(ERROR_CODES) as ErrorKind[],
): ErrorKind[] {
  return [...kinds].sort((a, b) => ERROR_CODES[b] - ERROR_CODES[a]);
}

/** The kind for a code, for tests and documentation. */
export function kindOfCode(code: number): ErrorKind | undefined {
  return (Object.keys(ERROR_CODES) as ErrorKind[]).find((kind) => ERROR_CODES[kind] === code);
}
