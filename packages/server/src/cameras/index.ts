export { CameraService } from './service.js';
export type {
  CameraHooks,
  CameraKind,
  CameraRecord,
  CameraServiceOptions,
  CameraStatus,
  RecordingState,
} from './service.js';
export { cameraByName, connectedCamera, registerCameraMethods } from './methods.js';
export {
  cameraContracts,
  cameraObject,
  cameraStatusUpdate,
  getCameraList,
  getCameraStatus,
} from './contracts.js';
export type { CameraObject } from './contracts.js';
export { probeDevice, ProbeError } from './probe.js';
export { DeviceDiscovery } from './discovery.js';
export type { WatchFactory } from './discovery.js';
export * from './probe-parse.js';
export * from './capture-mode.js';
export { DEVELOPMENT_TEST_PATTERN, effectiveCameras } from './defaults.js';
export { CLOCK_CODE_BITS, clockCodeBlock, decodeClockCode } from './clock-code.js';
