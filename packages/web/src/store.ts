/**
 * What the page knows of the cameras, kept true by notifications: the list is loaded on
 * every (re)connection, then each camera_status_update replaces its camera (a new device
 * appears, an unplugged one changes status) and each recording_status_update updates its
 * recording. Components subscribe and re-render on change.
 */
import type {
  CameraStatusUpdateNotification,
  GetCameraListResult,
  RecordingStatusUpdateNotification,
} from '@camera-service/sdk';

export type Camera = GetCameraListResult['cameras'][number];

export interface RecordingView {
  active: boolean;
  filename: string | null;
  /** Date.now() when it started, from elapsed_seconds or the STARTED notification. */
  startedAt: number | null;
  /** The last stop or failure, as a sentence. */
  lastEnd: string | null;
}

export class Store<T> {
  #value: T;
  readonly #listeners = new Set<() => void>();
  constructor(value: T) {
    this.#value = value;
  }
  get(): T {
    return this.#value;
  }
  set(value: T): void {
    this.#value = value;
    for (const listener of this.#listeners) listener();
  }
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface CamerasState {
  loaded: boolean;
  cameras: Camera[];
  recordings: Record<string, RecordingView>;
}

function recordingOf(camera: Camera, now: number): RecordingView {
  const r = camera.recording;
  return {
    active: r.active,
    filename: r.filename,
    startedAt: r.active ? now - (r.elapsed_seconds ?? 0) * 1000 : null,
    lastEnd: null,
  };
}

/** The state after a fresh camera list. */
export function fromList(list: GetCameraListResult, now: number): CamerasState {
  const recordings: Record<string, RecordingView> = {};
  for (const camera of list.cameras) recordings[camera.device] = recordingOf(camera, now);
  return { loaded: true, cameras: list.cameras, recordings };
}

/** The state after a camera_status_update: the camera replaced in place, or added. */
export function withCamera(
  state: CamerasState,
  camera: CameraStatusUpdateNotification,
  now: number,
): CamerasState {
  const index = state.cameras.findIndex((c) => c.device === camera.device);
  const cameras =
    index < 0
      ? [...state.cameras, camera]
      : state.cameras.map((c, i) => (i === index ? camera : c));
  const previous = state.recordings[camera.device];
  const next = recordingOf(camera, now);
  // Keep our own start time while the same recording goes on (elapsed is rounded).
  const recording =
    previous && previous.active && next.active
      ? { ...next, startedAt: previous.startedAt }
      : { ...next, lastEnd: previous?.lastEnd ?? null };
  return { ...state, cameras, recordings: { ...state.recordings, [camera.device]: recording } };
}

/** The state after a recording_status_update. */
export function withRecording(
  state: CamerasState,
  update: RecordingStatusUpdateNotification,
  now: number,
): CamerasState {
  const previous = state.recordings[update.device];
  let recording: RecordingView;
  if (update.status === 'STARTED') {
    recording = { active: true, filename: update.filename, startedAt: now, lastEnd: null };
  } else if (update.status === 'ROTATED') {
    recording = {
      active: true,
      filename: update.filename,
      startedAt: previous?.startedAt ?? now,
      lastEnd: null,
    };
  } else {
    recording = {
      active: false,
      filename: null,
      startedAt: null,
      lastEnd: `${update.status === 'FAILED' ? 'Failed' : 'Stopped'}${update.reason ? `: ${update.reason}` : ''}`,
    };
  }
  return { ...state, recordings: { ...state.recordings, [update.device]: recording } };
}

/** "1:05" or "1:02:03". */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** "1.5 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
