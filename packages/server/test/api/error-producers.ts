/**
 * For each error a method's contract declares, a call that must get it, and the scene (a
 * running service set up for it) it runs in. test/api/errors.test.ts runs them all and
 * checks that the table covers every declared error.
 */
import { existsSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CameraServiceClient } from '@camera-service/sdk';
import type { ErrorKind } from '../../src/errors/index.js';
import type { TestApp } from '../helpers/app.js';
import { until } from '../files/standin.js';

export type SceneName =
  | 'service'
  | 'media server gone'
  | 'storage low'
  | 'storage critical'
  | 'disk full'
  | 'directories gone'
  | 'output vanished'
  | 'throttled';

export interface Scene {
  t: TestApp;
  operator: CameraServiceClient;
  admin: CameraServiceClient;
  anonymous: CameraServiceClient;
  /** A V4L2 camera in ERROR (its probe fails), by device. */
  broken: string;
  /** A camera that was plugged, then unplugged (DISCONNECTED). */
  unplugged: string;
}

export interface Producer {
  scene: SceneName;
  /** The call that must fail with the error. */
  call: (scene: Scene) => Promise<unknown>;
  /** What its message must say, when that matters. */
  message?: RegExp;
}

/** test0: the declared test-pattern camera every scene has. */
const CAM = 'test0';

/** The first refusal (-32002) among calls made at once, or a result when none was refused. */
async function anyRefused(calls: Promise<unknown>[]): Promise<unknown> {
  const outcomes = await Promise.allSettled(calls);
  const refused = outcomes.find(
    (o): o is PromiseRejectedResult =>
      o.status === 'rejected' && (o.reason as { code?: number }).code === -32002,
  );
  if (refused) throw refused.reason;
  return 'none was refused';
}

/** Starts a recording and waits for its first file on disk. */
async function recordingWritten(s: Scene): Promise<string> {
  const started = (await s.operator.request('start_recording', { device: CAM })) as {
    filename: string;
  };
  const file = join(s.t.config.storage.recordings_dir, started.filename);
  await until(() => existsSync(file), 10_000, 'the recording on disk');
  return file;
}

/** `call` while test0 records, its file on disk (started first, stopped after). */
async function whileRecording(
  s: Scene,
  call: (filename: string) => Promise<unknown>,
): Promise<unknown> {
  const file = await recordingWritten(s);
  try {
    return await call(basename(file));
  } finally {
    await s.operator.request('stop_recording', { device: CAM });
  }
}

/** Fake media files for the info methods to probe, one per call of a burst. */
function burst(s: Scene, kind: 'recordings' | 'snapshots', method: string): Promise<unknown> {
  const dir = s.t.config.storage[kind === 'recordings' ? 'recordings_dir' : 'snapshots_dir'];
  const extension = kind === 'recordings' ? 'mp4' : 'jpg';
  const names = Array.from({ length: 12 }, (_, i) => `burst-${i}.${extension}`);
  for (const name of names) writeFileSync(join(dir, name), 'not really media');
  return anyRefused(names.map((filename) => s.operator.request(method, { filename })));
}

const unknownCamera = (method: string): Producer => ({
  scene: 'service',
  call: (s) => s.operator.request(method, { device: 'nope9' }),
  message: /^There is no camera "nope9": get_camera_list lists the cameras/,
});
const brokenCamera = (method: string): Producer => ({
  scene: 'service',
  call: (s) => s.operator.request(method, { device: s.broken }),
  message: /is not available: Could not probe/,
});
const mediaGone = (method: string, params: Record<string, unknown>): Producer => ({
  scene: 'media server gone',
  call: (s) => s.operator.request(method, params),
});
const badName = (method: string, params: Record<string, unknown>): Producer => ({
  scene: 'service',
  call: (s) => s.operator.request(method, params),
  message: /^The file name .* (is not a plain file name|must end with)/,
});
const missingFile = (method: string, filename: string): Producer => ({
  scene: 'service',
  call: (s) => s.operator.request(method, { filename }),
  message: /^There is no (recording|snapshot) named/,
});
const dirGone = (method: string, params: Record<string, unknown>): Producer => ({
  scene: 'directories gone',
  call: (s) => s.admin.request(method, params),
  message: /directory \(storage\.(recordings|snapshots)_dir\) is not a directory/,
});

export const PRODUCERS: Record<string, Partial<Record<ErrorKind, Producer>>> = {
  authenticate: {
    authentication_failed: {
      scene: 'throttled',
      call: (s) => s.anonymous.request('authenticate', { auth_token: 'not-a-token' }),
      message: /^Authentication failed: invalid token/,
    },
    rate_limited: {
      scene: 'throttled',
      call: (s) =>
        anyRefused(
          Array.from({ length: 4 }, () =>
            s.anonymous.request('authenticate', { auth_token: 'still-not-a-token' }),
          ),
        ),
      message: /failed too often lately/,
    },
  },
  get_streams: { media_server_error: mediaGone('get_streams', {}) },
  get_camera_status: {
    camera_not_found: unknownCamera('get_camera_status'),
    // A camera in ERROR is shown with its reason; one unplugged is unavailable.
    camera_unavailable: {
      scene: 'service',
      call: (s) => s.operator.request('get_camera_status', { device: s.unplugged }),
      message: /is disconnected: plug it back in\.$/,
    },
    media_server_error: mediaGone('get_camera_status', { device: CAM }),
  },
  take_snapshot: {
    camera_not_found: unknownCamera('take_snapshot'),
    camera_unavailable: brokenCamera('take_snapshot'),
    media_server_error: mediaGone('take_snapshot', { device: CAM }),
    invalid_filename: badName('take_snapshot', { device: CAM, filename: '../door.jpg' }),
    invalid_params: {
      scene: 'service',
      call: (s) =>
        s.operator.request('take_snapshot', { device: CAM, filename: 'a.jpeg', format: 'jpg' }),
      message: /^Invalid params: "format" expected the extension of filename "a\.jpeg"/,
    },
    rate_limited: {
      scene: 'service',
      // Each quality is a grab of its own: one runs, one waits, the rest are refused.
      call: (s) =>
        anyRefused(
          Array.from({ length: 8 }, (_, i) =>
            s.operator.request('take_snapshot', { device: CAM, quality: 50 + i }),
          ),
        ),
      message: /^The server is busy taking other snapshots/,
    },
    storage_unavailable: dirGone('take_snapshot', { device: CAM }),
    storage_critical: {
      scene: 'disk full',
      call: (s) => s.operator.request('take_snapshot', { device: CAM }),
      message: /is on a full disk: snapshots cannot be saved; free space/,
    },
  },
  start_recording: {
    camera_not_found: unknownCamera('start_recording'),
    camera_unavailable: brokenCamera('start_recording'),
    recording_in_progress: {
      scene: 'service',
      call: (s) => whileRecording(s, () => s.operator.request('start_recording', { device: CAM })),
      message: /is already recording \(session .*\): stop it first\.$/,
    },
    media_server_error: mediaGone('start_recording', { device: CAM }),
    storage_low: {
      scene: 'storage low',
      call: (s) => s.operator.request('start_recording', { device: CAM }),
      message: /^Storage is low/,
    },
    storage_critical: {
      scene: 'storage critical',
      call: (s) => s.operator.request('start_recording', { device: CAM }),
      message: /^Storage is critically full/,
    },
    storage_unavailable: dirGone('start_recording', { device: CAM }),
    invalid_params: {
      scene: 'service',
      call: (s) =>
        s.operator.request('start_recording', { device: CAM, duration: 5, duration_minutes: 1 }),
      message: /^Invalid params: "duration_minutes" cannot be given with duration: give one of/,
    },
  },
  stop_recording: {
    camera_not_found: unknownCamera('stop_recording'),
    not_recording: {
      scene: 'service',
      call: (s) => s.operator.request('stop_recording', { device: CAM }),
      message: /^The camera test0 is not recording: there is nothing to stop/,
    },
    file_not_found: {
      scene: 'output vanished',
      call: async (s) => {
        unlinkSync(await recordingWritten(s));
        return s.operator.request('stop_recording', { device: CAM });
      },
      message: /its file .* was deleted while recording/,
    },
    storage_unavailable: {
      scene: 'output vanished',
      call: async (s) => {
        await recordingWritten(s);
        rmSync(s.t.config.storage.recordings_dir, { recursive: true });
        return s.operator.request('stop_recording', { device: CAM });
      },
      message: /the recordings directory \(storage\.recordings_dir\) was removed while recording/,
    },
  },
  get_recording_info: {
    file_not_found: missingFile('get_recording_info', 'gone.mp4'),
    invalid_filename: badName('get_recording_info', { filename: 'x.jpg' }),
    rate_limited: {
      scene: 'service',
      call: (s) => burst(s, 'recordings', 'get_recording_info'),
      message: /^The server is busy reading other files/,
    },
    storage_unavailable: dirGone('get_recording_info', { filename: 'gone.mp4' }),
  },
  get_snapshot_info: {
    file_not_found: missingFile('get_snapshot_info', 'gone.jpg'),
    invalid_filename: badName('get_snapshot_info', { filename: '.hidden.jpg' }),
    rate_limited: {
      scene: 'service',
      call: (s) => burst(s, 'snapshots', 'get_snapshot_info'),
      message: /^The server is busy reading other files/,
    },
    storage_unavailable: dirGone('get_snapshot_info', { filename: 'gone.jpg' }),
  },
  delete_recording: {
    file_not_found: missingFile('delete_recording', 'gone.mp4'),
    invalid_filename: badName('delete_recording', { filename: 'a/b.mp4' }),
    recording_in_progress: {
      scene: 'service',
      call: (s) =>
        whileRecording(s, (filename) => s.operator.request('delete_recording', { filename })),
      message: /is being recorded: stop the recording \(stop_recording\) before deleting it\.$/,
    },
    storage_unavailable: dirGone('delete_recording', { filename: 'gone.mp4' }),
  },
  delete_snapshot: {
    file_not_found: missingFile('delete_snapshot', 'gone.jpg'),
    invalid_filename: badName('delete_snapshot', { filename: 'x.png' }),
    storage_unavailable: dirGone('delete_snapshot', { filename: 'gone.jpg' }),
  },
  get_storage_info: {
    storage_unavailable: {
      ...dirGone('get_storage_info', {}),
      message: /storage use cannot be measured/,
    },
  },
  create_api_key: {
    invalid_params: {
      scene: 'service',
      call: async (s) => {
        await s.admin.request('create_api_key', { name: 'twice', role: 'viewer' });
        return s.admin.request('create_api_key', { name: 'twice', role: 'viewer' });
      },
      message: /An active key named "twice" exists/,
    },
  },
  revoke_api_key: {
    api_key_not_found: {
      scene: 'service',
      call: (s) => s.admin.request('revoke_api_key', { id: '0badc0de' }),
      message: /^No active API key has the id 0badc0de/,
    },
  },
  set_retention_policy: {
    invalid_params: {
      scene: 'service',
      call: (s) => s.admin.request('set_retention_policy', { policy_type: 'size', enabled: true }),
      message: /^Invalid params: "max_size_gb" a size policy needs max_size_gb\.$/,
    },
  },
};
