/**
 * What the cameras need of the media server: a path per camera, its state, the stream
 * URLs for clients, and word when a stream becomes ready or the paths came back after an
 * outage. The media plane provides it (media/plane.ts); the cameras know nothing else of
 * the media server.
 */
import type {
  CallOptions,
  CameraPathSource,
  ClientView,
  PathStatus,
  StreamUrls,
} from '../media/index.js';

export interface StreamPaths {
  /** Creates the camera's path, or leaves an identical one, or replaces another. */
  ensureCameraPath(name: string, source: CameraPathSource, call?: CallOptions): Promise<unknown>;
  /** Deletes the camera's path; false when the media server had none. */
  removeCameraPath(name: string, call?: CallOptions): Promise<boolean>;
  /** The path's live state (readers, bytes, readiness), or null when there is none. */
  pathState(name: string, call?: CallOptions): Promise<PathStatus | null>;
  /** Whether the stream is ready to read, as last known. */
  isReady(name: string): boolean;
  /** Told whenever a stream becomes ready or stops; returns the unsubscribe. */
  onReadiness(listener: (name: string, ready: boolean) => void): () => void;
  /** Told which paths were re-created after the media server restarted or came back. */
  onRecovered(listener: (names: string[]) => void): () => void;
  /** The URLs a client is given, on the host it connected with. */
  streamUrls(name: string, client: ClientView): StreamUrls;
}
