/**
 * Every method contract of the API, in one list: the source of the API reference
 * (docs/api-reference.md) and of the SDK's generated types. A test proves the running
 * server registers exactly these.
 */
import { authContracts, keyContracts } from './auth/index.js';
import type { MethodContract } from './rpc/index.js';
import { systemContracts } from './system/index.js';
import { cameraContracts, cameraObject, cameraStatusUpdate } from './cameras/index.js';
import { captureContracts, recordingStatusUpdate } from './capture/index.js';
import { fileObject, filesContracts, policyObject } from './files/index.js';
import { mediaContracts } from './media/index.js';

export const allContracts: readonly MethodContract[] = [
  ...authContracts,
  ...keyContracts,
  ...systemContracts,
  ...mediaContracts,
  ...cameraContracts,
  ...captureContracts,
  ...filesContracts,
];

/** Server-to-client notifications, for the API reference and the SDK's types. */
export const allNotifications = [cameraStatusUpdate, recordingStatusUpdate] as const;

/** Object types the API reference describes once, and links to wherever they appear. */
export const sharedTypes = [
  {
    title: 'The camera object',
    summary: 'A camera as get_camera_list, get_camera_status and camera_status_update describe it.',
    schema: cameraObject,
  },
  {
    title: 'The file object',
    summary: 'A recording or a snapshot as list_recordings and list_snapshots describe it.',
    schema: fileObject,
  },
  {
    title: 'The retention policy',
    summary: 'What may be deleted automatically: get_storage_info and set_retention_policy.',
    schema: policyObject,
  },
] as const;
