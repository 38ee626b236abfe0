/** The server package's public face, for tests, the bench and embedding. */
export { App } from './app.js';
export type { AppAddresses, AppOptions } from './app.js';
export { run, EXIT_CONFIG } from './main.js';
export { allContracts } from './contracts.js';
export * from './config/index.js';
export { createLogger } from './logging/index.js';
export type { Logger } from './logging/index.js';
export { ERROR_CODES, ServiceError } from './errors/index.js';
export type { ErrorKind } from './errors/index.js';
export { VERSION, API_VERSION } from './version.js';
export { ApiKeyStore, JwtService } from './auth/index.js';
export { decodeClockCode } from './cameras/index.js';
export type { ApiKeyInfo, MintOptions } from './auth/index.js';
export {
  MediaMtxClient,
  MediaPlane,
  PathManager,
  StreamNotReadyError,
  goDuration,
  publishCommand,
  waitReady,
} from './media/index.js';
export type { CameraSource, PathConf, PathStatus } from './media/index.js';
