/**
 * The cameras a fresh development box shows: with no `cameras:` key and no V4L2 device
 * node, a test pattern `test0`, so that the first `npm start` serves a live camera and
 * the README's examples work. Never in production, and `cameras: []` turns it off.
 */
import { readdirSync } from 'node:fs';
import type { Config, DeclaredCamera } from '../config/index.js';

/** The development test pattern: 320x240 at 10 fps with a clock. */
export const DEVELOPMENT_TEST_PATTERN: DeclaredCamera = {
  id: 'test0',
  name: 'Test pattern',
  test_pattern: { size: '320x240', fps: 10, clock: true },
};

const VIDEO_NODE = /^video\d+$/;

/**
 * The declared cameras to run with, and whether the development test pattern was added
 * (for the log). `listDevices` lists the device directory (injected by tests).
 */
export function effectiveCameras(
  config: Config,
  listDevices: (dir: string) => string[] = (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
): { cameras: DeclaredCamera[]; testPattern: boolean } {
  if (config.cameras !== null) return { cameras: config.cameras, testPattern: false };
  if (config.service.environment !== 'development') return { cameras: [], testPattern: false };
  const hasDevice = listDevices(config.camera.device_dir).some((name) => VIDEO_NODE.test(name));
  return hasDevice
    ? { cameras: [], testPattern: false }
    : { cameras: [DEVELOPMENT_TEST_PATTERN], testPattern: true };
}
