/** Contracts of the file and storage methods (SPEC sections 4 and 5). */
import { z } from 'zod';
import { defineMethod } from '../rpc/index.js';

const listParams = z.strictObject({
  limit: z
    .number({ error: 'expected a whole number of files from 0 to 1000' })
    .int({ error: 'expected a whole number of files from 0 to 1000' })
    .min(0, { error: 'expected a whole number of files from 0 to 1000' })
    .max(1000, { error: 'expected a whole number of files from 0 to 1000' })
    .default(100),
  offset: z
    .number({ error: 'expected how many files to skip, a whole number from 0' })
    .int({ error: 'expected how many files to skip, a whole number from 0' })
    .min(0, { error: 'expected how many files to skip, a whole number from 0' })
    .default(0),
  device: z
    .string({ error: 'expected a camera device or stream name, e.g. "/dev/video0" or "camera0"' })
    .min(1)
    .max(256)
    .optional(),
  sort: z
    .enum(['newest', 'oldest', 'name', 'largest'], {
      error: 'expected newest, oldest, name or largest',
    })
    .default('newest'),
});

const listedFile = z.object({
  filename: z.string(),
  file_size: z.number().int(),
  modified_time: z.string(),
  created_time: z.string(),
  /** Seconds, when the file has been probed (get_recording_info); recordings only. */
  duration: z.number().optional(),
  /** The camera the file came from (its device), or the stream name for unknown cameras. */
  device: z.string().nullable(),
  /** Path of the HTTP download on this port: GET it with your credential. */
  download_url: z.string(),
  /** A recording still being written. */
  in_progress: z.boolean(),
});

const listResult = z.object({
  files: z.array(listedFile),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

const filenameParam = z.strictObject({
  filename: z
    .string({ error: 'expected a file name as listed, e.g. "camera0_2025-01-15_14-30-00_001.mp4"' })
    .min(1, { error: 'expected a file name as listed' })
    .max(256, { error: 'expected a file name of at most 256 characters' }),
});

const deleted = z.object({
  filename: z.string(),
  deleted: z.literal(true),
  message: z.string(),
});

export const listRecordings = defineMethod({
  name: 'list_recordings',
  summary: 'Lists recordings, newest first unless sorted otherwise, a page at a time.',
  access: 'viewer',
  params: listParams,
  result: listResult,
});

export const listSnapshots = defineMethod({
  name: 'list_snapshots',
  summary: 'Lists snapshots, newest first unless sorted otherwise, a page at a time.',
  access: 'viewer',
  params: listParams,
  result: listResult,
});

export const getRecordingInfo = defineMethod({
  name: 'get_recording_info',
  summary: "A recording's size, duration, codec and resolution (from ffprobe).",
  access: 'viewer',
  params: filenameParam,
  result: listedFile.extend({
    duration: z.number().nullable(),
    codec: z.string().nullable(),
    resolution: z.string().nullable(),
  }),
  errors: ['file_not_found', 'invalid_filename', 'rate_limited', 'storage_unavailable'],
});

export const getSnapshotInfo = defineMethod({
  name: 'get_snapshot_info',
  summary: "A snapshot's size and resolution.",
  access: 'viewer',
  params: filenameParam,
  result: listedFile.omit({ duration: true, in_progress: true }).extend({
    resolution: z.string().nullable(),
  }),
  errors: ['file_not_found', 'invalid_filename', 'rate_limited', 'storage_unavailable'],
});

export const deleteRecording = defineMethod({
  name: 'delete_recording',
  summary: 'Deletes a recording file; one being written is refused (stop the recording first).',
  access: 'operator',
  params: filenameParam,
  result: deleted,
  errors: ['file_not_found', 'invalid_filename', 'recording_in_progress', 'storage_unavailable'],
});

export const deleteSnapshot = defineMethod({
  name: 'delete_snapshot',
  summary: 'Deletes a snapshot file.',
  access: 'operator',
  params: filenameParam,
  result: deleted,
  errors: ['file_not_found', 'invalid_filename', 'storage_unavailable'],
});

const policy = z.object({
  policy_type: z.enum(['age', 'size', 'manual']),
  enabled: z.boolean(),
  max_age_days: z.number(),
  max_size_gb: z.number().nullable(),
  /** config: the configuration file's; api: set with set_retention_policy (stored). */
  source: z.enum(['config', 'api']),
  updated_at: z.string().nullable(),
});

export const getStorageInfo = defineMethod({
  name: 'get_storage_info',
  summary:
    'How full the volume holding the recordings is, what the media takes, and which threshold it has reached.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.object({
    total_space: z.number().int(),
    used_space: z.number().int(),
    available_space: z.number().int(),
    usage_percentage: z.number(),
    recordings_size: z.number().int(),
    snapshots_size: z.number().int(),
    recordings_count: z.number().int(),
    snapshots_count: z.number().int(),
    /** warn, block or critical reached. */
    low_space_warning: z.boolean(),
    threshold_status: z.enum(['ok', 'warn', 'block', 'critical']),
    thresholds: z.object({
      warn_percent: z.number(),
      block_percent: z.number(),
      critical_percent: z.number(),
    }),
    /** The retention policy in force. */
    retention: policy,
  }),
  /** -1012: the recordings directory is missing or unreadable. */
  errors: ['storage_unavailable'],
});

export const setRetentionPolicy = defineMethod({
  name: 'set_retention_policy',
  summary:
    'Sets what may be deleted automatically (age, size or manual) and whether it runs; stored across restarts.',
  access: 'admin',
  params: z
    .strictObject({
      policy_type: z.enum(['age', 'size', 'manual'], { error: 'expected age, size or manual' }),
      enabled: z.boolean({ error: 'expected true or false' }),
      max_age_days: z
        .number({ error: 'expected a number of days above 0' })
        .positive({ error: 'expected a number of days above 0' })
        .max(36_500, { error: 'expected at most 100 years' })
        .optional(),
      max_size_gb: z
        .number({ error: 'expected a size in GB above 0' })
        .positive({ error: 'expected a size in GB above 0' })
        .optional(),
    })
    .refine((p) => p.policy_type !== 'size' || p.max_size_gb !== undefined, {
      error: 'a size policy needs max_size_gb',
      path: ['max_size_gb'],
    }),
  result: policy,
});

export const cleanupOldFiles = defineMethod({
  name: 'cleanup_old_files',
  summary:
    'Applies the retention policy now (enabled or not): deletes old files oldest first, never one being written.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.object({
    cleanup_executed: z.boolean(),
    files_deleted: z.number().int(),
    space_freed: z.number().int(),
    message: z.string(),
  }),
});

export const filesContracts = [
  listRecordings,
  listSnapshots,
  getRecordingInfo,
  getSnapshotInfo,
  deleteRecording,
  deleteSnapshot,
  getStorageInfo,
  setRetentionPolicy,
  cleanupOldFiles,
] as const;
