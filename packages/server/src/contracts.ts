/**
 * Every method contract of the API, in one list: the source of the API reference
 * (docs/api-reference.md) and of the SDK's generated types. A test proves the running
 * server registers exactly these.
 */
import { authContracts } from './auth/index.js';
import type { MethodContract } from './rpc/index.js';
import { systemContracts } from './system/index.js';
import { cameraContracts, cameraStatusUpdate } from './cameras/index.js';
import { captureContracts, recordingStatusUpdate } from './capture/index.js';
import { filesContracts } from './files/index.js';
import { mediaContracts } from './media/index.js';

export const allContracts: readonly MethodContract[] = [
  ...authContracts,
  ...systemContracts,
  ...mediaContracts,
  ...cameraContracts,
  ...captureContracts,
  ...filesContracts,
];

/** Server-to-client notifications, for the API reference and the SDK's types. */
export const allNotifications = [cameraStatusUpdate, recordingStatusUpdate] as const;
