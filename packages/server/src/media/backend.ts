/**
 * One media server behind the media plane, whichever runs it (embedded.ts, external.ts,
 * managed.ts). A backend starts and stops its media server and hands the plane what it
 * needs to talk to it; everything that works the same in every mode (paths, health,
 * readiness, recovery, URLs) stays in the plane.
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import type { HookDecision, HookRequest } from './auth-hook.js';
import { MediaMtxClient } from './client.js';
import type { MediaCredential, MediaCredentials } from './credentials.js';
import type { ReadyState } from './ready-state.js';

export interface MediaPorts {
  api: number;
  rtsp: number;
  hls: number;
  /** null when there is no WebRTC (the embedded relay, or mediamtx.webrtc off). */
  webrtc: number | null;
}

/** What a started media server gives the plane. */
export interface RunningMedia {
  ports: MediaPorts;
  client: MediaMtxClient;
  /** Where the service's own readers (snapshots, recordings, readiness) reach its RTSP. */
  rtspHost: string;
  /**
   * Where the path commands publish, as seen from the media server's machine; null: its
   * loopback (a MediaMTX run by something else listens there by default).
   */
  publishHost: string | null;
}

export interface BackendContext {
  config: Config;
  log: Logger;
  credentials: MediaCredentials;
  /** Readiness, for a backend whose media server tells it at once (the relay). */
  ready: ReadyState;
  /** The loopback hook MediaMTX asks before every action, when the service decides. */
  hookUrl: string | null;
  /** The same decision, called in-process (the relay). */
  authorize?: (request: HookRequest) => Promise<HookDecision>;
  /** The relay closed or refused a connection to protect itself (metrics). */
  onDrop?: (listener: 'rtsp' | 'hls', reason: string) => void;
  /** The managed process was started again: whatever it knew through the API is gone. */
  restarted(): void;
  /** It answers its API again after a restart: check it now rather than at the next tick. */
  answering(): void;
}

export interface MediaBackend {
  start(): Promise<RunningMedia>;
  stop(): Promise<void>;
  /** Details of its own for /health/mediamtx (the managed process). */
  details(): Record<string, unknown>;
}

/** The API client every backend uses, with the plane's timeout and log. */
export function mediaClient(
  context: BackendContext,
  baseUrl: string,
  credential: MediaCredential,
): MediaMtxClient {
  return new MediaMtxClient({
    baseUrl,
    log: context.log.child({ component: 'mediamtx-client' }),
    timeoutMs: context.config.mediamtx.api_timeout_seconds * 1000,
    username: credential.user,
    password: credential.password,
  });
}
