/**
 * Browser entry (and any runtime with a global WebSocket): no imports but its own
 * modules, so a page can import dist/src/index.js as it is. Node users get the `node`
 * entry, which supplies `ws` and file downloads.
 */
export { CameraServiceClient } from './client.js';
export type {
  CallOptions,
  ClientEvents,
  ClientOptions,
  ClientState,
  ReconnectOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './client.js';
export { blobSink, fileUrl } from './download.js';
export type {
  DownloadOptions,
  DownloadProgress,
  DownloadResult,
  DownloadSink,
  FileKind,
} from './download.js';
export {
  CameraServiceError,
  ConnectionError,
  DownloadError,
  ErrorCodes,
  RpcError,
  TimeoutError,
  describeClose,
} from './errors.js';
export type { DownloadErrorKind, ErrorKind } from './errors.js';
export { METHOD_ERRORS, SDK_METHODS } from './generated/methods.js';
export type { MethodErrorKind } from './generated/methods.js';
export type * from './generated/api.js';
