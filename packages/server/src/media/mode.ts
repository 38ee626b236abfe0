/**
 * Which media server serves the streams, and why (logged at start, shown in get_status):
 *
 *   managed   the service runs the mediamtx binary with a configuration it writes
 *   external  something else runs MediaMTX; the service only connects
 *   embedded  packages/relay, in this process
 *   auto      managed when a mediamtx binary is found, else embedded
 */
import { ConfigError, type Config } from '../config/index.js';
import { findMediaMtxBinary } from './binary.js';

export type MediaMode = 'managed' | 'external' | 'embedded';

export interface ResolvedMode {
  mode: MediaMode;
  requested: Config['mediamtx']['mode'];
  /** Why this mode: logged at start and shown in get_status. */
  reason: string;
  binary: string | null;
}

/** The configured mode cannot run: a configuration error (the daemon exits 78). */
export class MediaModeError extends ConfigError {
  constructor(problem: string) {
    super([problem], 'of the media server');
    this.name = 'MediaModeError';
  }
}

/** Picks the mode; `find` is the binary lookup (injected by tests). */
export function resolveMode(
  config: Config,
  find: typeof findMediaMtxBinary = findMediaMtxBinary,
): ResolvedMode {
  const requested = config.mediamtx.mode;
  if (requested === 'embedded' || requested === 'external') {
    return { mode: requested, requested, reason: `mediamtx.mode is ${requested}`, binary: null };
  }
  let found;
  try {
    found = find(config.mediamtx.binary);
  } catch (error) {
    throw new MediaModeError((error as Error).message);
  }
  if (found) {
    const where = found.how === 'configured' ? 'mediamtx.binary' : 'PATH';
    return {
      mode: 'managed',
      requested,
      reason:
        requested === 'managed'
          ? `mediamtx.mode is managed; running ${found.path} (from ${where})`
          : `mediamtx.mode is auto and ${found.path} was found (from ${where})`,
      binary: found.path,
    };
  }
  if (requested === 'managed') {
    throw new MediaModeError(
      'mediamtx.mode is managed but no mediamtx binary was found: set mediamtx.binary to its path, put it on PATH, or use mode embedded or external.',
    );
  }
  return {
    mode: 'embedded',
    requested,
    reason:
      'mediamtx.mode is auto and no mediamtx binary was found (mediamtx.binary unset, none on PATH): the embedded relay serves the streams',
    binary: null,
  };
}
