export { runFfmpeg, parseProgress, redact, runningFfmpegCount, FfmpegRun } from './ffmpeg.js';
export type { FfmpegExit, FfmpegOptions, FfmpegProgress } from './ffmpeg.js';
export { SnapshotService, jpegQscale } from './snapshot.js';
export type { SnapshotRequest, SnapshotResult, SnapshotTier } from './snapshot.js';
export { RecordingService } from './recorder.js';
export type {
  RecordingEvent,
  RecordingFormat,
  StartResult,
  StopReason,
  StopResult,
} from './recorder.js';
export { registerCaptureMethods } from './methods.js';
export {
  captureContracts,
  recordingStatusUpdate,
  startRecording,
  stopRecording,
  takeSnapshot,
} from './contracts.js';
export { GopKeeper, GopKeepers } from './gop-keeper.js';
export type { GopKeepersOptions } from './gop-keeper.js';
