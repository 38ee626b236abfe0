/** The cameras store: kept true by camera_status_update and recording_status_update. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatBytes,
  formatElapsed,
  fromList,
  withCamera,
  withRecording,
  type Camera,
} from '../../src/store.js';

function camera(device: string, extra: Partial<Camera> = {}): Camera {
  return {
    device,
    status: 'CONNECTED',
    name: device,
    resolution: '320x240',
    fps: 10,
    streams: { rtsp: null, webrtc: null, hls: null, credential: 'viewer', token_urls: null },
    capabilities: { formats: [], resolutions: [], frame_rates: [] },
    recording: { active: false, session_id: null, filename: null, elapsed_seconds: null },
    kind: 'test_pattern',
    stream_path: device,
    stable_id: null,
    driver: null,
    bus: null,
    capture_format: null,
    error: null,
    stream_ready: false,
    ...extra,
  };
}

describe('the cameras store', () => {
  const list = fromList({ cameras: [camera('test0')], total: 1, connected: 1 }, 1000);
  it('adds a camera that appears and replaces one that changes', () => {
    const plugged = withCamera(list, camera('/dev/video0'), 2000);
    assert.deepEqual(
      plugged.cameras.map((c) => c.device),
      ['test0', '/dev/video0'],
    );
    const unplugged = withCamera(plugged, camera('/dev/video0', { status: 'DISCONNECTED' }), 3000);
    assert.deepEqual(
      unplugged.cameras.map((c) => c.status),
      ['CONNECTED', 'DISCONNECTED'],
    );
  });
  it('starts the elapsed time from the list, then follows recording_status_update', () => {
    const recording = fromList(
      {
        cameras: [
          camera('test0', {
            recording: { active: true, session_id: 's', filename: 'a.mp4', elapsed_seconds: 5 },
          }),
        ],
        total: 1,
        connected: 1,
      },
      10_000,
    );
    assert.equal(recording.recordings.test0?.startedAt, 5000);
    const stopped = withRecording(
      recording,
      {
        device: 'test0',
        status: 'STOPPED',
        session_id: 's',
        filename: 'a.mp4',
        duration: 3,
        reason: 'duration reached',
      },
      12_000,
    );
    assert.deepEqual(stopped.recordings.test0, {
      active: false,
      filename: null,
      startedAt: null,
      lastEnd: 'Stopped: duration reached',
    });
    const started = withRecording(
      stopped,
      { device: 'test0', status: 'STARTED', session_id: 't', filename: 'b.mp4', duration: null },
      13_000,
    );
    assert.equal(started.recordings.test0?.startedAt, 13_000);
  });
  it('formats elapsed times and sizes', () => {
    assert.equal(formatElapsed(65_000), '1:05');
    assert.equal(formatElapsed(3_723_000), '1:02:03');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1_500_000), '1.5 MB');
  });
});
