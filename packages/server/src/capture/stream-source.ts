/**
 * What snapshots and recordings need of the media server: a camera's stream started and
 * ready, the URL the service reads it from, its state, and whether the media server
 * answers at all. The media plane provides it (media/plane.ts).
 */
import type { CallOptions, PathStatus } from '../media/index.js';

export interface StreamSource {
  /** Waits until the stream is ready, starting it on demand; rejects saying why not. */
  waitReady(name: string, call?: CallOptions, timeoutMs?: number): Promise<PathStatus>;
  /** The path's live state, or null when the media server has no such path. */
  pathState(name: string, call?: CallOptions): Promise<PathStatus | null>;
  /** rtsp://... with the service's own reader credential (never shown to clients). */
  readerUrl(name: string): string;
  /** Whether the media server answers now (its last check, and the circuit breaker). */
  reachable(): boolean;
}
