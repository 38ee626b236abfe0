/** Contracts of the capture methods (SPEC section 4) and the recording notification. */
import { z } from 'zod';
import { defineMethod } from '../rpc/index.js';

const device = z
  .string({ error: 'expected the camera device, e.g. "/dev/video0" or a declared camera id' })
  .min(1, { error: 'expected the camera device, e.g. "/dev/video0" or a declared camera id' })
  .max(256);
const seconds = (what: string) =>
  z
    .number({ error: `expected ${what} as a number above 0` })
    .positive({ error: `expected ${what} as a number above 0` })
    .max(7 * 24 * 3600, { error: `expected ${what} of at most a week` });

export const takeSnapshot = defineMethod({
  name: 'take_snapshot',
  summary:
    'Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or from the device directly (tier 3).',
  access: 'operator',
  params: z.strictObject({
    device,
    filename: z.string({ error: 'expected a file name such as "door.jpg"' }).optional(),
    format: z.enum(['jpg', 'jpeg'], { error: 'expected jpg' }).optional(),
    quality: z
      .number({ error: 'expected a quality from 1 to 100' })
      .int({ error: 'expected a whole quality from 1 to 100' })
      .min(1, { error: 'expected a quality from 1 to 100' })
      .max(100, { error: 'expected a quality from 1 to 100' })
      .optional(),
    overwrite: z.boolean({ error: 'expected true or false' }).optional(),
  }),
  result: z.object({
    device: z.string(),
    filename: z.string(),
    status: z.literal('SUCCESS'),
    timestamp: z.string(),
    file_size: z.number().int(),
    /** The file's name in the snapshots directory (download it from /files/snapshots/). */
    file_path: z.string(),
    tier: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    capture_ms: z.number(),
  }),
  errors: [
    'camera_not_found',
    'camera_unavailable',
    'media_server_error',
    'invalid_filename',
    'rate_limited',
    'storage_unavailable',
    'storage_critical',
  ],
});

export const startRecording = defineMethod({
  name: 'start_recording',
  summary:
    'Starts recording a camera (one recording per camera): until stopped, or for a duration; rotated into segments.',
  access: 'operator',
  params: z.strictObject({
    device,
    duration: seconds('the duration in seconds').optional(),
    duration_seconds: seconds('the duration in seconds').optional(),
    duration_minutes: seconds('the duration in minutes').optional(),
    duration_hours: seconds('the duration in hours').optional(),
    format: z.enum(['mp4', 'mkv'], { error: 'expected mp4 or mkv' }).optional(),
    segment_seconds: z
      .number({ error: 'expected a segment length in seconds (1 or more)' })
      .min(1, { error: 'expected a segment length in seconds (1 or more)' })
      .max(24 * 3600, { error: 'expected a segment length of at most a day' })
      .optional(),
  }),
  result: z.object({
    device: z.string(),
    session_id: z.string(),
    filename: z.string(),
    status: z.literal('STARTED'),
    start_time: z.string(),
    /** Seconds, or null until stopped. */
    duration: z.number().nullable(),
    format: z.enum(['mp4', 'mkv']),
    segment_seconds: z.number(),
  }),
  errors: [
    'camera_not_found',
    'camera_unavailable',
    'recording_in_progress',
    'media_server_error',
    'storage_low',
    'storage_critical',
    'storage_unavailable',
  ],
});

export const stopRecording = defineMethod({
  name: 'stop_recording',
  summary:
    "Stops a camera's recording, finalises its files and returns what was written, measured from the files.",
  access: 'operator',
  params: z.strictObject({ device }),
  result: z.object({
    device: z.string(),
    session_id: z.string(),
    filename: z.string(),
    status: z.literal('STOPPED'),
    start_time: z.string(),
    end_time: z.string(),
    duration: z.number(),
    file_size: z.number().int(),
    files: z.array(z.string()),
    reason: z.string(),
  }),
  /** -1012 or -1004: it stopped, but its directory or current file had been removed. */
  errors: ['camera_not_found', 'camera_unavailable', 'storage_unavailable', 'file_not_found'],
});

export const captureContracts = [takeSnapshot, startRecording, stopRecording] as const;

export const recordingStatusUpdate = {
  name: 'recording_status_update',
  summary:
    'A recording started, rotated to a new file, stopped (reason: manual, duration reached, camera disconnected, storage critical, media server lost, stream ended, service stopping) or failed (reason from ffmpeg, or its directory or file removed while recording).',
  params: z.object({
    device: z.string(),
    status: z.enum(['STARTED', 'ROTATED', 'STOPPED', 'FAILED']),
    session_id: z.string(),
    filename: z.string(),
    duration: z.number().nullable(),
    reason: z.string().optional(),
    files: z.array(z.string()).optional(),
  }),
};
