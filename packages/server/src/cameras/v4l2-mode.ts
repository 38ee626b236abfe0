/**
 * A V4L2 camera's capture mode and capabilities from its probe, with the configuration's
 * target and overrides (the rule is in docs/operations.md#cameras and capture-mode.ts).
 */
import type { Config } from '../config/index.js';
import { chooseCaptureMode, type CaptureModeChoice } from './capture-mode.js';
import {
  isCaptureBufferType,
  summarizeCapabilities,
  type CameraCapabilities,
  type DeviceInfo,
  type PixelFormat,
} from './probe-parse.js';

export const NO_CAPABILITIES: CameraCapabilities = {
  formats: [],
  resolutions: [],
  frame_rates: [],
};

/** Whether an override in `camera.overrides` names this node or its stable id. */
export function overrideFor(
  camera: Config['camera'],
  node: string,
  stableId: string | null,
): Config['camera']['overrides'][number] | undefined {
  return camera.overrides.find((o) => o.device === node || (stableId && o.device === stableId));
}

/** The mode to stream `formats` in: the override when one applies, else the default target. */
export function chooseV4l2Mode(
  camera: Config['camera'],
  formats: readonly PixelFormat[],
  node: string,
  stableId: string | null,
): CaptureModeChoice {
  const override = overrideFor(camera, node, stableId);
  const [tw, th] = camera.default_size.split('x').map(Number) as [number, number];
  return chooseCaptureMode(formats, {
    target: { width: tw, height: th, fps: camera.default_fps },
    ...(override && {
      override: {
        ...(override.format !== undefined && { format: override.format }),
        ...(override.size !== undefined && {
          width: Number(override.size.split('x')[0]),
          height: Number(override.size.split('x')[1]),
        }),
        ...(override.fps !== undefined && { fps: override.fps }),
      },
    }),
  });
}

/**
 * What the camera object offers: the formats listed, or, when none could be read, at least
 * the format the device is set to now (`Format Video Capture` and `Frames per second` in
 * `--all`), rather than nothing.
 */
export function capabilitiesOf(
  formats: readonly PixelFormat[],
  info: DeviceInfo | null,
): CameraCapabilities {
  const listed = summarizeCapabilities(formats);
  if (listed.formats.length > 0) return listed;
  const current = info?.currentFormat;
  if (!current || !isCaptureBufferType(current.bufferType)) return listed;
  const fps = info.currentFrameInterval?.fps;
  return {
    formats: [current.fourcc],
    resolutions:
      current.width > 0 && current.height > 0 ? [`${current.width}x${current.height}`] : [],
    frame_rates: fps !== undefined && fps > 0 ? [fps] : [],
  };
}
