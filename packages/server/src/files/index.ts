export {
  checkFilename,
  fileTimestamp,
  isMediaName,
  isOwnFile,
  recordingName,
  snapshotName,
} from './names.js';
export { Limiter, probeLimiter } from './limiter.js';
export type { LimiterOptions, Limits } from './limiter.js';
export {
  checkDir,
  describeFault,
  dirProblem,
  faultCause,
  storageError,
  storageFault,
} from './faults.js';
export type { DirCause, MediaKind } from './faults.js';
export { thresholdStatus, volumeUsage } from './storage.js';
export type { ThresholdStatus, VolumeUsage } from './storage.js';
export { probeDuration, probeMedia } from './probe.js';
export type { MediaFacts } from './probe.js';
export { FileCatalog } from './catalog.js';
export { readFileOrigin, readOrigin, tagJpeg } from './origin-tag.js';
export type { FileOrigin } from './origin-tag.js';
export type { CatalogEntry, SortOrder } from './catalog.js';
export { downloadHandler, isFileRequest } from './http.js';
export type { DownloadDeps, DownloadDrop, FileKind } from './http.js';
export { RetentionService } from './retention.js';
export type { CleanupResult, PolicyType, RetentionPolicy } from './retention.js';
export { EXTENSIONS, FilesService } from './service.js';
export { registerFilesMethods } from './methods.js';
export { fileObject, filesContracts, policyObject } from './contracts.js';
