/** take_snapshot, start_recording, stop_recording. */
import { connectedCamera, type CameraService } from '../cameras/index.js';
import { InvalidParams } from '../errors/index.js';
import type { MethodRegistry } from '../rpc/index.js';
import { startRecording, stopRecording, takeSnapshot } from './contracts.js';
import type { RecordingService } from './recorder.js';
import type { SnapshotService } from './snapshot.js';

/** A week: longer recordings are a retention question, not a timer. */
const MAX_RECORDING_SECONDS = 7 * 24 * 3600;

export function registerCaptureMethods(
  methods: MethodRegistry,
  deps: { cameras: CameraService; snapshots: SnapshotService; recordings: RecordingService },
): void {
  methods.register(takeSnapshot, (params, ctx) =>
    deps.snapshots.take({
      camera: connectedCamera(deps.cameras, params.device),
      ...(params.filename !== undefined && { filename: params.filename }),
      ...(params.quality !== undefined && { quality: params.quality }),
      ...(params.overwrite !== undefined && { overwrite: params.overwrite }),
      correlationId: ctx.correlationId,
    }),
  );

  methods.register(startRecording, (params, ctx) => {
    const given = [
      params.duration,
      params.duration_seconds,
      params.duration_minutes === undefined ? undefined : params.duration_minutes * 60,
      params.duration_hours === undefined ? undefined : params.duration_hours * 3600,
    ].filter((d) => d !== undefined);
    if (given.length > 1) {
      throw new InvalidParams(
        'Give the duration once: duration, duration_seconds, duration_minutes or duration_hours.',
        { param: 'duration' },
      );
    }
    const seconds = given[0];
    if (seconds !== undefined && (seconds < 0.1 || seconds > MAX_RECORDING_SECONDS)) {
      throw new InvalidParams(
        `The duration must be from 0.1 seconds to a week (${MAX_RECORDING_SECONDS} seconds); it was ${seconds} seconds.`,
        { param: 'duration' },
      );
    }
    return deps.recordings.begin({
      camera: connectedCamera(deps.cameras, params.device),
      durationSeconds: given[0] ?? null,
      ...(params.format !== undefined && { format: params.format }),
      ...(params.segment_seconds !== undefined && { segmentSeconds: params.segment_seconds }),
      correlationId: ctx.correlationId,
    });
  });

  methods.register(stopRecording, async (params) => {
    if (!deps.cameras.get(params.device)) connectedCamera(deps.cameras, params.device);
    return deps.recordings.end(params.device, 'manual');
  });
}
