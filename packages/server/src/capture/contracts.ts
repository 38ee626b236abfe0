/** Contracts of the capture methods (SPEC section 4) and the recording notification. */
import { z } from 'zod';
import { bytes, defineMethod, deviceParam, seconds, timestamp } from '../rpc/index.js';

/** A week: longer recordings are a retention question, not a timer. */
export const MAX_RECORDING_SECONDS = 7 * 24 * 3600;
/** Shorter than this is not a recording. */
const MIN_RECORDING_SECONDS = 0.1;

/** The duration parameters, by name, with the seconds in one of their unit. */
const DURATIONS = {
  duration: 1,
  duration_seconds: 1,
  duration_minutes: 60,
  duration_hours: 3600,
} as const;
type DurationParam = keyof typeof DURATIONS;

const ONE_DURATION =
  'Give at most one of duration, duration_seconds, duration_minutes and duration_hours; without any, the recording runs until stop_recording.';

function durationParam(unit: 'seconds' | 'minutes' | 'hours', scale: number) {
  const most = MAX_RECORDING_SECONDS / scale;
  return z
    .number({ error: `expected the duration in ${unit} as a number above 0` })
    .positive({ error: `expected the duration in ${unit} as a number above 0` })
    .max(most, { error: `expected at most a week (${most} ${unit})` })
    .meta({ description: `Stop after this long. ${ONE_DURATION}`, unit })
    .optional();
}

/** The recording's length in seconds from whichever duration parameter was given, or null. */
export function durationSeconds(params: Partial<Record<DurationParam, number>>): number | null {
  for (const [name, scale] of Object.entries(DURATIONS) as [DurationParam, number][]) {
    const value = params[name];
    if (value !== undefined) return value * scale;
  }
  return null;
}

const filename = z
  .string({ error: 'expected a file name such as "door.jpg"' })
  .describe(
    'The name to save the snapshot under: letters, digits, ".", "_" and "-", at most 200 characters, ending .jpg or .jpeg. Default: `<stream>_<date>_<time>_<random>.<format>`.',
  )
  .optional();

export const takeSnapshot = defineMethod({
  name: 'take_snapshot',
  summary:
    'Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or from the device directly (tier 3).',
  description:
    'Requests for the same camera and quality that arrive together share one frame, each written to its own file. A file is never half-written: it appears whole under its name. Download it from `/files/snapshots/<filename>` with your credential.',
  access: 'operator',
  params: z
    .strictObject({
      device: deviceParam,
      filename,
      format: z
        .enum(['jpg', 'jpeg'], { error: 'expected jpg or jpeg (snapshots are JPEG)' })
        .describe(
          "The file's extension: snapshots are JPEG, named .jpg or .jpeg. Names the file the service makes; with `filename`, it must be the filename's extension. Default jpg.",
        )
        .optional(),
      quality: z
        .number({ error: 'expected a quality from 1 to 100' })
        .int({ error: 'expected a whole quality from 1 to 100' })
        .min(1, { error: 'expected a quality from 1 to 100' })
        .max(100, { error: 'expected a quality from 1 to 100' })
        .describe('JPEG quality, from 1 (smallest file) to 100 (best picture).')
        .default(85),
      overwrite: z
        .boolean({ error: 'expected true or false' })
        .describe('Replace a snapshot of the same name; otherwise that is refused with -1011.')
        .default(false),
    })
    .superRefine((params, ctx) => {
      const { filename: name, format } = params;
      if (name === undefined || format === undefined) return;
      if (!name.toLowerCase().endsWith(`.${format}`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['format'],
          message: `expected the extension of filename "${name}": name it "….${format}", or leave format out`,
        });
      }
    }),
  result: z.object({
    device: z.string().describe('The camera, by its device (also when addressed by stream name).'),
    filename: z.string().describe("The snapshot's name in the snapshots directory."),
    status: z.literal('SUCCESS').describe('Always SUCCESS: a failed snapshot is an error.'),
    timestamp: timestamp('When the file was written.'),
    file_size: bytes("The file's size."),
    file_path: z
      .string()
      .describe(
        'The same name, for clients of the earlier API: download it from /files/snapshots/.',
      ),
    tier: z
      .union([z.literal(1), z.literal(2), z.literal(3)])
      .describe(
        '1: from the running stream; 2: the stream was started for it; 3: read from the device.',
      ),
    capture_ms: z
      .number()
      .nonnegative()
      .meta({ description: 'From the request to the file in place.', unit: 'milliseconds' }),
  }),
  errors: {
    camera_not_found: 'No camera has that device, stream name or id.',
    camera_unavailable:
      'The camera is disconnected or in error, or no frame could be read from its stream or device.',
    media_server_error: "The media server does not answer about the camera's stream.",
    invalid_filename:
      'The filename is not a plain .jpg/.jpeg name, or a snapshot of that name exists (and overwrite is false).',
    invalid_params: 'format is not the extension of filename.',
    rate_limited:
      'snapshot.max_concurrent grabs run and snapshot.max_queued wait already: try again in a moment.',
    storage_unavailable: 'The snapshots directory is missing, unreadable or not writable.',
    storage_critical: 'The disk holding the snapshots is full.',
  },
  examples: [
    {
      params: { device: '/dev/video0', filename: 'door.jpg', quality: 90 },
      result: {
        device: '/dev/video0',
        filename: 'door.jpg',
        status: 'SUCCESS',
        timestamp: '2025-06-01T14:30:00.412Z',
        file_size: 182311,
        file_path: 'door.jpg',
        tier: 1,
        capture_ms: 118,
      },
    },
  ],
});

export const startRecording = defineMethod({
  name: 'start_recording',
  summary:
    'Starts recording a camera (one recording per camera): until stopped, or for a duration; rotated into segments.',
  description:
    'The stream is copied as it is (no re-encoding) into files of `segment_seconds` each, named `<stream>_<date>_<time>.<format>` (later segments by their own start time); each new segment is announced by a recording_status_update ROTATED. MP4 files are fragmented, so a crash leaves them playable. A recording stops by stop_recording, at its duration, when the camera is unplugged or when the disk reaches storage.critical_percent (a recording_status_update says why).',
  access: 'operator',
  params: z
    .strictObject({
      device: deviceParam,
      duration: durationParam('seconds', 1),
      duration_seconds: durationParam('seconds', 1),
      duration_minutes: durationParam('minutes', 60),
      duration_hours: durationParam('hours', 3600),
      format: z
        .enum(['mp4', 'mkv'], { error: 'expected mp4 or mkv' })
        .describe('The container. Default: the configured recording.format (mp4 unless changed).')
        .optional(),
      segment_seconds: z
        .number({ error: 'expected a segment length in seconds (1 or more)' })
        .min(1, { error: 'expected a segment length in seconds (1 or more)' })
        .max(24 * 3600, { error: 'expected a segment length of at most a day' })
        .meta({
          description:
            'Start a new file after this long (on a keyframe). Default: the configured recording.segment_seconds (1800 unless changed).',
          unit: 'seconds',
        })
        .optional(),
    })
    .superRefine((params, ctx) => {
      const given = (Object.keys(DURATIONS) as DurationParam[]).filter(
        (n) => params[n] !== undefined,
      );
      if (given.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [given[1] as string],
          message: `cannot be given with ${given[0] as string}: give one of duration, duration_seconds, duration_minutes and duration_hours, or none to record until stop_recording`,
        });
        return;
      }
      const total = durationSeconds(params);
      if (total !== null && total < MIN_RECORDING_SECONDS) {
        ctx.addIssue({
          code: 'custom',
          path: [given[0] as string],
          message: `expected at least ${MIN_RECORDING_SECONDS} seconds in all; it was ${total} seconds`,
        });
      }
    }),
  result: z.object({
    device: z.string().describe('The camera, by its device (also when addressed by stream name).'),
    session_id: z
      .string()
      .describe('Identifies the recording in notifications and in stop_recording.'),
    filename: z.string().describe("The first segment's file name."),
    status: z.literal('STARTED').describe('Always STARTED: a refused start is an error.'),
    start_time: timestamp('When recording started.'),
    duration: seconds('The requested duration; null: until stopped.').nullable(),
    format: z.enum(['mp4', 'mkv']).describe('The container in use.'),
    segment_seconds: seconds('The segment length in use.'),
  }),
  errors: {
    camera_not_found: 'No camera has that device, stream name or id.',
    camera_unavailable: 'The camera is disconnected or in error, or its stream does not start.',
    recording_in_progress: 'The camera is recording already: `data.session_id` is that recording.',
    media_server_error: "The media server does not answer about the camera's stream.",
    storage_low: 'The recordings disk has reached storage.block_percent.',
    storage_critical: 'The recordings disk is full or has reached storage.critical_percent.',
    storage_unavailable: 'The recordings directory is missing, unreadable or not writable.',
    invalid_params:
      'More than one duration parameter is given, or the duration is under 0.1 seconds or over a week.',
  },
  examples: [
    {
      params: { device: '/dev/video0', duration_minutes: 10, format: 'mp4' },
      result: {
        device: '/dev/video0',
        session_id: 'b406775d-e634-4da7-aa54-30db5c22ad5f',
        filename: 'camera0_2025-06-01_14-30-00.mp4',
        status: 'STARTED',
        start_time: '2025-06-01T14:30:00.224Z',
        duration: 600,
        format: 'mp4',
        segment_seconds: 1800,
      },
    },
  ],
});

export const stopRecording = defineMethod({
  name: 'stop_recording',
  summary:
    "Stops a camera's recording, finalises its files and returns what was written, measured from the files.",
  access: 'operator',
  params: z.strictObject({ device: deviceParam }),
  result: z.object({
    device: z.string().describe('The camera, by its device (also when addressed by stream name).'),
    session_id: z.string().describe('The recording that stopped.'),
    filename: z.string().describe('Its first file.'),
    status: z.literal('STOPPED').describe('Always STOPPED.'),
    start_time: timestamp('When recording started.'),
    end_time: timestamp('When it stopped.'),
    duration: seconds('Of video in the files, per ffprobe.'),
    file_size: bytes('Of all its files.'),
    files: z.array(z.string()).describe('Every file it wrote, in order.'),
    reason: z.string().describe('Why it stopped: "manual" for stop_recording.'),
  }),
  errors: {
    camera_not_found: 'No camera has that device, stream name or id.',
    not_recording: 'The camera is not recording (or its recording was cancelled while it started).',
    storage_unavailable:
      'It stopped, but the recordings directory had been removed: what was written is lost.',
    file_not_found:
      'It stopped, but its current file had been deleted: what was written to it is lost.',
  },
  examples: [
    {
      params: { device: '/dev/video0' },
      result: {
        device: '/dev/video0',
        session_id: 'b406775d-e634-4da7-aa54-30db5c22ad5f',
        filename: 'camera0_2025-06-01_14-30-00.mp4',
        status: 'STOPPED',
        start_time: '2025-06-01T14:30:00.224Z',
        end_time: '2025-06-01T15:00:05.772Z',
        duration: 1805.5,
        file_size: 225418240,
        files: ['camera0_2025-06-01_14-30-00.mp4', 'camera0_2025-06-01_15-00-00.mp4'],
        reason: 'manual',
      },
    },
  ],
});

export const captureContracts = [takeSnapshot, startRecording, stopRecording] as const;

export const recordingStatusUpdate = {
  name: 'recording_status_update',
  summary:
    'A recording started, rotated to a new file, stopped (reason: manual, duration reached, camera disconnected, storage critical, media server lost, stream ended, service stopping) or failed (reason from ffmpeg, or its directory or file removed while recording).',
  params: z.object({
    device: z.string().describe('The camera, by its device.'),
    status: z
      .enum(['STARTED', 'ROTATED', 'STOPPED', 'FAILED'])
      .describe('ROTATED: a new segment file was started (`filename`).'),
    session_id: z.string().describe('The recording.'),
    filename: z
      .string()
      .describe('STARTED, ROTATED: the new file; STOPPED, FAILED: the first file.'),
    duration: seconds(
      'STARTED: the requested duration or null; then the seconds recorded.',
    ).nullable(),
    reason: z.string().optional().describe('STOPPED, FAILED: why.'),
    files: z.array(z.string()).optional().describe('STOPPED, FAILED: every file it wrote.'),
  }),
  example: {
    device: '/dev/video0',
    status: 'STOPPED',
    session_id: 'b406775d-e634-4da7-aa54-30db5c22ad5f',
    filename: 'camera0_2025-06-01_14-30-00.mp4',
    duration: 600,
    reason: 'duration reached',
    files: ['camera0_2025-06-01_14-30-00.mp4'],
  },
};
