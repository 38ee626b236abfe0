/**
 * A V4L2 node plugged in, made a camera record: its identity (sysfs name, by-id link), its
 * probe, and its capture mode, or the reason it is in ERROR. The camera service stores the
 * record and creates its media path.
 */
import { basename } from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/index.js';
import type { CaptureMode } from './capture-mode.js';
import { nodeExists, stableIdOf, sysfsNameOf } from './node-identity.js';
import { ProbeError, probeDevice, type ProbeResult } from './probe.js';
import type { CameraRecord } from './service.js';
import { NO_CAPABILITIES, capabilitiesOf, chooseV4l2Mode } from './v4l2-mode.js';

export interface V4l2ProbeOptions {
  camera: Config['camera'];
  log: Logger;
  /** V4L2 cameras already counted against camera.max_cameras, this one left out. */
  connected: number;
  /** The name the camera had when it was last seen, if it was. */
  previousName: string | null;
  /** The pause between probe attempts (see probeDevice). */
  retryWait: (ms: number) => Promise<boolean>;
  stopped: () => boolean;
}

export type V4l2Probe =
  /** Not a camera: the node went away while it was probed, or it does not capture video. */
  | { kind: 'ignored' }
  | { kind: 'error'; camera: CameraRecord; lookAgainForStableId: boolean }
  | { kind: 'camera'; camera: CameraRecord; mode: CaptureMode; lookAgainForStableId: boolean };

/** camera3 for /dev/video3. */
export function nodeNumber(device: string): number {
  const match = /video(\d+)$/.exec(device);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

export async function probeV4l2Camera(node: string, options: V4l2ProbeOptions): Promise<V4l2Probe> {
  const c = options.camera;
  const sysfsName = await sysfsNameOf(c.sysfs_dir, node);
  const base = {
    device: node,
    kind: 'v4l2' as const,
    path: `camera${nodeNumber(node)}`,
    pathCreated: false,
    since: Date.now(),
  };
  if (options.connected >= c.max_cameras) {
    return {
      kind: 'error',
      lookAgainForStableId: false,
      camera: {
        ...base,
        stableId: await stableIdOf(c.device_dir, node),
        status: 'ERROR',
        name: sysfsName ?? basename(node),
        mode: null,
        capabilities: NO_CAPABILITIES,
        driver: null,
        bus: null,
        error: `The camera limit (camera.max_cameras = ${c.max_cameras}) is reached: unplug another camera or raise the limit.`,
      },
    };
  }
  let probed: ProbeResult;
  try {
    probed = await probeDevice(node, {
      command: c.probe_command,
      timeoutMs: c.probe_timeout_seconds * 1000,
      log: options.log,
      retryWait: options.retryWait,
    });
  } catch (error) {
    // A node unplugged while it was being probed fails its probe too: that is an unplug,
    // not a camera in error (discovery reports the removal once its debounce has passed).
    if (options.stopped() || !(await nodeExists(node))) {
      options.log.debug(
        { node, err: (error as Error).message },
        'the node went away while it was probed: ignored',
      );
      return { kind: 'ignored' };
    }
    // The output may have said what the camera is and how it is set now, if not the rest.
    const info = error instanceof ProbeError ? error.info : null;
    return {
      kind: 'error',
      lookAgainForStableId: false,
      camera: {
        ...base,
        stableId: await stableIdOf(c.device_dir, node),
        status: 'ERROR',
        name: info?.card || sysfsName || options.previousName || basename(node),
        mode: null,
        capabilities: capabilitiesOf([], info),
        driver: info?.driver || null,
        bus: info?.busInfo || null,
        error: `Could not probe ${node}: ${(error as Error).message}`,
      },
    };
  }
  const { info, formats } = probed;
  if (!info.capture || info.metadataOnly) {
    // The second node of a UVC camera, a codec, an output: not a camera.
    options.log.debug(
      { node, driver: info.driver, card: info.card },
      'not a capture node: ignored',
    );
    return { kind: 'ignored' };
  }
  // Looked for after the probe, which gives udev time to add the link after the node.
  const stableId = await stableIdOf(c.device_dir, node);
  const identity = {
    ...base,
    stableId,
    name: info.card || sysfsName || basename(node),
    capabilities: capabilitiesOf(formats, info),
    driver: info.driver || null,
    bus: info.busInfo || null,
  };
  const lookAgainForStableId = stableId === null;
  const choice = chooseV4l2Mode(c, formats, node, stableId);
  if (!choice.ok) {
    return {
      kind: 'error',
      lookAgainForStableId,
      camera: { ...identity, status: 'ERROR', mode: null, error: choice.reason },
    };
  }
  const mode = choice.mode;
  return {
    kind: 'camera',
    lookAgainForStableId,
    mode,
    camera: {
      ...identity,
      status: 'CONNECTED',
      mode: { width: mode.width, height: mode.height, fps: mode.fps, format: mode.fourcc },
      error: null,
    },
  };
}
