/**
 * Errors the client raises. A server error keeps its JSON-RPC code, message and data;
 * `kind` names the code so callers can branch without magic numbers.
 */

/** Error codes of the API (SPEC section 4), by kind. Kept equal to the server's table by a test. */
export const ErrorCodes = {
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
  not_recording: -1007,
  media_server_error: -1003,
  file_not_found: -1004,
  storage_low: -1008,
  storage_critical: -1010,
  invalid_filename: -1011,
  storage_unavailable: -1012,
  api_key_not_found: -1013,
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

const KIND_BY_CODE = new Map<number, ErrorKind>(
  (Object.entries(ErrorCodes) as [ErrorKind, number][]).map(([kind, code]) => [code, kind]),
);

/** Base class of every error this SDK throws. */
export class CameraServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server answered with a JSON-RPC error. */
export class RpcError extends CameraServiceError {
  readonly code: number;
  /** The code's name, or `unknown` for a code this SDK version does not know. */
  readonly kind: ErrorKind | 'unknown';
  readonly data: unknown;
  readonly method: string;

  constructor(method: string, error: { code: number; message: string; data?: unknown }) {
    super(error.message);
    this.code = error.code;
    this.kind = KIND_BY_CODE.get(error.code) ?? 'unknown';
    this.data = error.data;
    this.method = method;
  }
}

/** No answer arrived within the call's timeout. */
export class TimeoutError extends CameraServiceError {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
    while_?: string,
  ) {
    super(
      while_
        ? `${method} could not be sent within ${timeoutMs} ms ${while_}; the server may be down.`
        : `${method} got no answer within ${timeoutMs} ms; the server may be overloaded or unreachable.`,
    );
  }
}

/** The connection could not be opened, or closed while calls were waiting. */
export class ConnectionError extends CameraServiceError {
  constructor(
    message: string,
    /** The WebSocket close code when the server closed the connection (1009: message too big). */
    readonly closeCode?: number,
  ) {
    super(message);
  }
}

/** Why a download failed: an HTTP status the server answered, or a transfer problem. */
export type DownloadErrorKind =
  | 'authentication_failed'
  | 'permission_denied'
  | 'file_not_found'
  | 'invalid_filename'
  | 'busy'
  | 'http_error'
  | 'size_mismatch'
  | 'network'
  | 'aborted';

/** A download failed: `status` is the HTTP status when the server answered one. */
export class DownloadError extends CameraServiceError {
  constructor(
    message: string,
    readonly kind: DownloadErrorKind,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Describes a WebSocket close code in words a user can act on. */
export function describeClose(code: number, reason: string): string {
  switch (code) {
    case 1000:
      return 'the connection was closed';
    case 1001:
      return 'the server is shutting down or restarting';
    case 1006:
      return 'the connection was lost without a close frame (network failure or the server dropped a slow or silent client)';
    case 1009:
      return 'the server closed the connection because a message was larger than its limit (see get_server_info limits.max_message_bytes)';
    case 1013:
      return 'the server is at its connection limit; try again later';
    default:
      return `the connection closed with code ${code}${reason ? ` (${reason})` : ''}`;
  }
}
