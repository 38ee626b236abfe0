/** Browser entry: uses the global WebSocket. Node users get the `node` entry, which supplies `ws`. */
export { CameraServiceClient } from './client.js';
export type {
  CallOptions,
  ClientEvents,
  ClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './client.js';
export {
  CameraServiceError,
  ConnectionError,
  ErrorCodes,
  RpcError,
  TimeoutError,
  describeClose,
} from './errors.js';
export type { ErrorKind } from './errors.js';
export type * from './generated/api.js';
