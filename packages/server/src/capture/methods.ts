/** take_snapshot, start_recording, stop_recording. */
import { cameraByName, connectedCamera, type CameraService } from '../cameras/index.js';
import type { MethodRegistry } from '../rpc/index.js';
import { durationSeconds, startRecording, stopRecording, takeSnapshot } from './contracts.js';
import type { RecordingService } from './recorder.js';
import type { SnapshotService } from './snapshot.js';

export function registerCaptureMethods(
  methods: MethodRegistry,
  deps: { cameras: CameraService; snapshots: SnapshotService; recordings: RecordingService },
): void {
  methods.register(takeSnapshot, (params, ctx) =>
    deps.snapshots.take({
      camera: connectedCamera(deps.cameras, params.device),
      ...(params.filename !== undefined && { filename: params.filename }),
      ...(params.format !== undefined && { extension: params.format }),
      quality: params.quality,
      overwrite: params.overwrite,
      correlationId: ctx.correlationId,
    }),
  );

  // The contract allows one duration parameter, of at most a week in all.
  methods.register(startRecording, (params, ctx) =>
    deps.recordings.begin({
      camera: connectedCamera(deps.cameras, params.device),
      durationSeconds: durationSeconds(params),
      ...(params.format !== undefined && { format: params.format }),
      ...(params.segment_seconds !== undefined && { segmentSeconds: params.segment_seconds }),
      correlationId: ctx.correlationId,
    }),
  );

  // A disconnected camera may still be stopping its recording: only an unknown one is refused.
  methods.register(stopRecording, (params) =>
    deps.recordings.end(cameraByName(deps.cameras, params.device).device, 'manual'),
  );
}
