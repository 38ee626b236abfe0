export { MediaPlane, MediaModeError, goDuration, resolveMode } from './plane.js';
export type {
  ClientView,
  MediaMode,
  MediaPlaneOptions,
  MediaPorts,
  ResolvedMode,
  StreamUrls,
} from './plane.js';
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
export { publishArgs, publishCommand, shellQuote } from './command.js';
export type { CameraSource, CodecConfig, PublishCommandOptions } from './command.js';
export { StreamNotReadyError, describe, readTail, waitReady } from './readiness.js';
export { CircuitBreaker } from './breaker.js';
export type { BreakerOptions, BreakerState } from './breaker.js';
export { HealthMonitor, backoffDelay } from './monitor.js';
export type { MonitorStatus, RecoveryReason } from './monitor.js';
export { registerMediaMethods, mediaServerError } from './methods.js';
export { mediaContracts, getStreams } from './contracts.js';
export { ProcessSupervisor } from './supervisor.js';
export { findMediaMtxBinary } from './binary.js';
export { mediamtxConfig, writeMediaMtxConfig } from './mediamtx-config.js';
export { AuthHookServer, AUTH_HOOK_PATH, parseHookRequest } from './auth-hook.js';
export type { HookDecision, HookRequest } from './auth-hook.js';
export { newMediaCredentials, redactCredentials, withCredential } from './credentials.js';
export type { MediaCredential, MediaCredentials } from './credentials.js';
