export { MediaPlane } from './plane.js';
export type { CameraPathSource, MediaPlaneOptions } from './plane.js';
export { MediaModeError, resolveMode } from './mode.js';
export type { MediaMode, ResolvedMode } from './mode.js';
export type { MediaPorts } from './backend.js';
export type { ClientView, StreamUrls } from './urls.js';
export { goDuration } from './go-duration.js';
export { MediaMtxClient, MediaServerError, normalizePath } from './client.js';
export type {
  ApiInfo,
  ApiPath,
  CallOptions,
  MediaMtxClientOptions,
  PathConf,
  PathStatus,
} from './client.js';
export { PathManager, sameConf } from './paths.js';
export type { EnsureOutcome, ReapplyResult } from './paths.js';
export {
  STREAM_LAUNCHER,
  StreamCommandError,
  publishArgs,
  publishCommand,
  publishWords,
  shellQuote,
} from './command.js';
export type { CameraSource, CodecConfig, PublishCommandOptions } from './command.js';
export { StreamNotReadyError, describe, readTail, waitReady } from './readiness.js';
export { CircuitBreaker } from './breaker.js';
export type { BreakerOptions, BreakerState } from './breaker.js';
export { HealthMonitor, backoffDelay } from './monitor.js';
export type { MonitorStatus, RecoveryReason } from './monitor.js';
export { ServerProbe } from './probe.js';
export type { ProbeResult } from './probe.js';
export { registerMediaMethods, mediaServerError } from './methods.js';
export { mediaContracts, getStreams } from './contracts.js';
export { ProcessSupervisor } from './supervisor.js';
export { findMediaMtxBinary } from './binary.js';
export { mediamtxConfig, mediamtxEnvironment, writeMediaMtxConfig } from './mediamtx-config.js';
export { AuthHookServer, AUTH_HOOK_PATH, parseHookRequest } from './auth-hook.js';
export type { HookDecision, HookRequest } from './auth-hook.js';
export { newMediaCredentials, redactCredentials, withCredential } from './credentials.js';
export type { MediaCredential, MediaCredentials } from './credentials.js';
