/**
 * camera-cli's exit codes, which scripts can rely on (docs/clients/cli.md has the table),
 * and how an error maps to one.
 */
import { ConnectionError, DownloadError, RpcError, TimeoutError } from '@camera-service/sdk';

export const EXIT = {
  ok: 0,
  /** The server failed, or anything not below. */
  error: 1,
  /** A bad command line, or params the server refused as invalid. */
  usage: 2,
  /** No credential, a refused or expired one, or a role too low. */
  auth: 3,
  /** No such camera or file. */
  notFound: 4,
  /** Busy or unavailable: the service cannot be reached, the camera is busy or gone, storage is short, rate limited. */
  unavailable: 5,
} as const;

/** A command-line mistake: exit 2, with the usage hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const BY_KIND: Record<string, number> = {
  invalid_params: EXIT.usage,
  invalid_filename: EXIT.usage,
  method_not_found: EXIT.usage,
  authentication_failed: EXIT.auth,
  permission_denied: EXIT.auth,
  camera_not_found: EXIT.notFound,
  file_not_found: EXIT.notFound,
  camera_unavailable: EXIT.unavailable,
  recording_in_progress: EXIT.unavailable,
  not_recording: EXIT.unavailable,
  rate_limited: EXIT.unavailable,
  storage_low: EXIT.unavailable,
  storage_critical: EXIT.unavailable,
  storage_unavailable: EXIT.unavailable,
  busy: EXIT.unavailable,
};

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RpcError || error instanceof DownloadError) {
    return BY_KIND[error.kind] ?? EXIT.error;
  }
  if (error instanceof ConnectionError || error instanceof TimeoutError) return EXIT.unavailable;
  return EXIT.error;
}

/** The error as --json prints it on stderr: `{"error": {...}}`. */
export function errorJson(error: unknown): { error: Record<string, unknown> } {
  const e = error as Error;
  const out: Record<string, unknown> = {
    type: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    exit_code: exitCodeOf(error),
  };
  if (error instanceof RpcError) {
    out.code = error.code;
    out.kind = error.kind;
    if (error.data !== undefined) out.data = error.data;
  } else if (error instanceof DownloadError) {
    out.kind = error.kind;
    if (error.status !== undefined) out.status = error.status;
  }
  return { error: out };
}
