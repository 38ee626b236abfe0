export { checkFilename, fileTimestamp, recordingName, snapshotName } from './names.js';
export { thresholdStatus, volumeUsage } from './storage.js';
export type { ThresholdStatus, VolumeUsage } from './storage.js';
