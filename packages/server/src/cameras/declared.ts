/**
 * The record and media path source of a camera declared in the configuration (`cameras:`):
 * a test pattern, or a network camera the media server pulls. They are CONNECTED from the
 * start; their stream path is their id.
 */
import type { DeclaredCamera } from '../config/index.js';
import type { CameraPathSource } from '../media/index.js';
import type { CameraRecord } from './service.js';

export function declaredCamera(declared: DeclaredCamera): {
  camera: CameraRecord;
  source: CameraPathSource;
} {
  const base = {
    device: declared.id,
    path: declared.id,
    name: declared.name ?? declared.id,
    stableId: null,
    driver: null,
    bus: null,
    error: null,
    pathCreated: false,
    since: Date.now(),
  };
  if ('test_pattern' in declared) {
    const { size, fps, clock, clock_code: clockCode } = declared.test_pattern;
    const [width, height] = size.split('x').map(Number) as [number, number];
    return {
      camera: {
        ...base,
        kind: 'test_pattern',
        status: 'CONNECTED',
        mode: { width, height, fps, format: null },
        capabilities: { formats: ['H264'], resolutions: [size], frame_rates: [fps] },
      },
      source: { kind: 'test_pattern', size, fps, clock, clockCode: clockCode ?? false },
    };
  }
  return {
    camera: {
      ...base,
      kind: 'url',
      status: 'CONNECTED',
      mode: null,
      capabilities: { formats: [], resolutions: [], frame_rates: [] },
    },
    source: { kind: 'url', url: declared.url },
  };
}
