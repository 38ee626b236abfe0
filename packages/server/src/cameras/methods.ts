/** The camera methods: get_camera_list and get_camera_status. */
import { ServiceError } from '../errors/index.js';
import { mediaServerError } from '../media/index.js';
import type { MethodRegistry } from '../rpc/index.js';
import { getCameraList, getCameraStatus } from './contracts.js';
import type { CameraRecord, CameraService, CameraStatus } from './service.js';

export function registerCameraMethods(methods: MethodRegistry, cameras: CameraService): void {
  methods.register(getCameraList, (_params, ctx) => {
    const list = cameras.list();
    return {
      cameras: list.map((camera) => cameras.toObject(camera, ctx.session)),
      total: list.length,
      connected: list.filter((camera) => camera.status === 'CONNECTED').length,
    };
  });

  methods.register(getCameraStatus, async ({ device }, ctx) => {
    // A camera in ERROR is shown with its reason (SPEC 3: it is listed in ERROR); only the
    // operations that need a working camera refuse it.
    const camera = knownCamera(cameras, device, ['CONNECTED', 'ERROR']);
    let metrics;
    try {
      metrics = await cameras.metrics(camera, { correlationId: ctx.correlationId });
    } catch (error) {
      throw mediaServerError(error);
    }
    const { ready: _ready, ...figures } = metrics;
    return { ...cameras.toObject(camera, ctx.session), metrics: figures };
  });
}

/**
 * The camera a `device` parameter names: by its device (`/dev/video0`, a declared id),
 * or by its stream name (`camera0`), as clients of the earlier implementations address
 * it. -1000 when none matches.
 */
export function cameraByName(cameras: CameraService, device: string): CameraRecord {
  const camera = cameras.get(device) ?? cameras.list().find((c) => c.path === device);
  if (!camera) {
    throw new ServiceError(
      'camera_not_found',
      `There is no camera ${JSON.stringify(device)}: get_camera_list lists the cameras (by device and stream_path).`,
      { device },
    );
  }
  return camera;
}

/** The camera, connected: -1000 when unknown, -1001 when disconnected or in error. */
export function connectedCamera(cameras: CameraService, device: string): CameraRecord {
  return knownCamera(cameras, device, ['CONNECTED']);
}

/** The camera, in one of the statuses `allowed`: -1000 when unknown, -1001 otherwise. */
function knownCamera(
  cameras: CameraService,
  device: string,
  allowed: readonly CameraStatus[],
): CameraRecord {
  const camera = cameraByName(cameras, device);
  if (!allowed.includes(camera.status)) {
    throw new ServiceError(
      'camera_unavailable',
      camera.status === 'DISCONNECTED'
        ? `The camera ${camera.device} is disconnected: plug it back in.`
        : `The camera ${camera.device} is not available: ${camera.error ?? 'it is in error'}`,
      { device: camera.device, status: camera.status },
    );
  }
  return camera;
}
