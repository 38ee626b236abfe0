/** Contracts of the file and storage methods (SPEC sections 4 and 5). */
import { z } from 'zod';
import { bytes, count, defineMethod, seconds, timestamp } from '../rpc/index.js';
import { STORAGE_INFO, listedRecording, listedSnapshot, recording, snapshot } from './examples.js';

const listParams = z.strictObject({
  limit: z
    .number({ error: 'expected a whole number of files from 0 to 1000' })
    .int({ error: 'expected a whole number of files from 0 to 1000' })
    .min(0, { error: 'expected a whole number of files from 0 to 1000' })
    .max(1000, { error: 'expected a whole number of files from 0 to 1000' })
    .describe('How many files to return at most (a page).')
    .default(100),
  offset: z
    .number({ error: 'expected how many files to skip, a whole number from 0' })
    .int({ error: 'expected how many files to skip, a whole number from 0' })
    .min(0, { error: 'expected how many files to skip, a whole number from 0' })
    .describe('How many files to skip: the next page starts at offset + limit.')
    .default(0),
  device: z
    .string({ error: 'expected a camera device or stream name, e.g. "/dev/video0" or "camera0"' })
    .min(1)
    .max(256)
    .describe(
      "Only this camera's files: its device (`/dev/video0`) or stream name (`camera0`); files of a camera no longer known are found by stream name. An unknown camera lists nothing.",
    )
    .optional(),
  sort: z
    .enum(['newest', 'oldest', 'name', 'largest'], {
      error: 'expected newest, oldest, name or largest',
    })
    .describe('newest or oldest: by modification time; name: alphabetical; largest: by size.')
    .default('newest'),
});

const listedFile = z.object({
  filename: z.string().describe("The file's name: the argument of the info and delete methods."),
  file_size: bytes("The file's size now (a recording in progress grows)."),
  modified_time: timestamp('When the file was last written.'),
  created_time: timestamp(
    'When the file was created (its birth time; its modification time where the file system keeps none).',
  ),
  duration: seconds(
    'Recordings only, and only once get_recording_info has measured this version of the file (a list never runs ffprobe): absent otherwise. get_recording_info always gives it.',
  ).optional(),
  device: z
    .string()
    .nullable()
    .describe(
      'The camera the file came from, by its device; the stream name for a camera no longer known; null for a name without one.',
    ),
  download_url: z
    .string()
    .describe('Path of the HTTP download on this port: GET it with your credential.'),
  in_progress: z.boolean().describe('A recording still being written (it cannot be deleted).'),
});

/** A file as the list and info methods describe it, for the API reference's types. */
export const fileObject = listedFile;

const listResult = z.object({
  files: z.array(listedFile).describe('This page of files.'),
  total: count('How many files match, over all pages.'),
  limit: count('The limit applied.'),
  offset: count('The offset applied.'),
});

const filenameParam = z.strictObject({
  filename: z
    .string({ error: 'expected a file name as listed, e.g. "camera0_2025-01-15_14-30-00.mp4"' })
    .min(1, { error: 'expected a file name as listed' })
    .max(256, { error: 'expected a file name of at most 256 characters' })
    .describe('The file name, as the list methods give it.'),
});

const deleted = z.object({
  filename: z.string().describe('The deleted file.'),
  deleted: z.literal(true).describe('Always true: a refused delete is an error.'),
  message: z.string().describe('What happened, as a sentence.'),
});

const badName = 'The filename is not a plain name with the extension of its kind.';
const missing = 'No file of that name (in this kind: recordings or snapshots).';
const busy =
  'storage.max_concurrent_probes ffprobe runs go on and storage.max_queued_probes wait already: try again in a moment.';
const storage = (kind: string) => `The ${kind} directory is missing or unreadable.`;

export const listRecordings = defineMethod({
  name: 'list_recordings',
  summary: 'Lists recordings, newest first unless sorted otherwise, a page at a time.',
  access: 'viewer',
  params: listParams,
  result: listResult,
  errors: {},
  examples: [
    {
      params: { limit: 1, device: 'camera0' },
      result: {
        files: [{ ...listedRecording, duration: 1800.2 }],
        total: 12,
        limit: 1,
        offset: 0,
      },
    },
  ],
});

export const listSnapshots = defineMethod({
  name: 'list_snapshots',
  summary: 'Lists snapshots, newest first unless sorted otherwise, a page at a time.',
  access: 'viewer',
  params: listParams,
  result: listResult,
  errors: {},
  examples: [
    {
      params: { limit: 20, offset: 20, sort: 'oldest' },
      result: {
        files: [{ ...listedSnapshot, in_progress: false }],
        total: 21,
        limit: 20,
        offset: 20,
      },
    },
  ],
});

export const getRecordingInfo = defineMethod({
  name: 'get_recording_info',
  summary: "A recording's size, duration, codec and resolution (from ffprobe).",
  description:
    'ffprobe runs once per version of a file; asking again about an unchanged file answers from memory. A recording in progress is measured as far as it is written.',
  access: 'viewer',
  params: filenameParam,
  result: listedFile.extend({
    duration: seconds('Of video in the file; null when ffprobe cannot read it.').nullable(),
    codec: z.string().nullable().describe('The video codec (h264...); null when unknown.'),
    resolution: z.string().nullable().describe('"WxH"; null when unknown.'),
  }),
  errors: {
    file_not_found: missing,
    invalid_filename: badName,
    rate_limited: busy,
    storage_unavailable: storage('recordings'),
  },
  examples: [
    {
      params: { filename: recording },
      result: { ...listedRecording, duration: 1800.2, codec: 'h264', resolution: '1920x1080' },
    },
  ],
});

export const getSnapshotInfo = defineMethod({
  name: 'get_snapshot_info',
  summary: "A snapshot's size and resolution.",
  access: 'viewer',
  params: filenameParam,
  result: listedFile.omit({ duration: true, in_progress: true }).extend({
    resolution: z
      .string()
      .nullable()
      .describe('"WxH"; null when the file cannot be read as an image.'),
  }),
  errors: {
    file_not_found: missing,
    invalid_filename: badName,
    rate_limited: busy,
    storage_unavailable: storage('snapshots'),
  },
  examples: [
    { params: { filename: snapshot }, result: { ...listedSnapshot, resolution: '1920x1080' } },
  ],
});

export const deleteRecording = defineMethod({
  name: 'delete_recording',
  summary: 'Deletes a recording file; one being written is refused (stop the recording first).',
  access: 'operator',
  params: filenameParam,
  result: deleted,
  errors: {
    file_not_found: missing,
    invalid_filename: badName,
    recording_in_progress: 'The file is being recorded: stop_recording first.',
    storage_unavailable: 'The recordings directory is missing, unreadable or read-only.',
  },
  examples: [
    {
      params: { filename: recording },
      result: { filename: recording, deleted: true, message: `${recording} was deleted.` },
    },
  ],
});

export const deleteSnapshot = defineMethod({
  name: 'delete_snapshot',
  summary: 'Deletes a snapshot file.',
  access: 'operator',
  params: filenameParam,
  result: deleted,
  errors: {
    file_not_found: missing,
    invalid_filename: badName,
    storage_unavailable: 'The snapshots directory is missing, unreadable or read-only.',
  },
  examples: [
    {
      params: { filename: snapshot },
      result: { filename: snapshot, deleted: true, message: `${snapshot} was deleted.` },
    },
  ],
});

const policy = z.object({
  policy_type: z
    .enum(['age', 'size', 'manual'])
    .describe(
      'age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual: nothing.',
    ),
  enabled: z
    .boolean()
    .describe(
      'Whether it runs by itself (every retention.check_interval_seconds); cleanup_old_files runs it anyway.',
    ),
  max_age_days: z
    .number()
    .positive()
    .meta({ description: 'The age limit of the age policy.', unit: 'days' }),
  max_size_gb: z.number().positive().nullable().meta({
    description:
      'The size limit of the size policy, recordings and snapshots together; null: none set.',
    unit: 'GB (10^9 bytes)',
  }),
  source: z
    .enum(['config', 'api'])
    .describe("config: the configuration file's; api: set with set_retention_policy (stored)."),
  updated_at: timestamp(
    "When set_retention_policy stored it; null for the configuration's.",
  ).nullable(),
});

/** The retention policy, for the API reference's types. */
export const policyObject = policy;

export const getStorageInfo = defineMethod({
  name: 'get_storage_info',
  summary:
    'How full the volume holding the recordings is, what the media takes, and which threshold it has reached.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.object({
    total_space: bytes('The size of the volume holding the recordings directory.'),
    used_space: bytes('Used on it, by anything.'),
    available_space: bytes("Free for the service to use (root's reserve excluded)."),
    usage_percentage: z.number().min(0).max(100).meta({
      description:
        "How full the volume is, as df counts it (root's reserve excluded): what the thresholds compare.",
      unit: 'percent',
    }),
    recordings_size: bytes('What the recordings take.'),
    snapshots_size: bytes('What the snapshots take.'),
    recordings_count: count('How many recordings there are.'),
    snapshots_count: count('How many snapshots there are.'),
    low_space_warning: z.boolean().describe('Whether warn_percent (or more) is reached.'),
    threshold_status: z
      .enum(['ok', 'warn', 'block', 'critical'])
      .describe(
        'The highest threshold reached: block refuses new recordings; critical also stops them.',
      ),
    thresholds: z
      .object({
        warn_percent: z.number().meta({ description: 'storage.warn_percent.', unit: 'percent' }),
        block_percent: z.number().meta({ description: 'storage.block_percent.', unit: 'percent' }),
        critical_percent: z
          .number()
          .meta({ description: 'storage.critical_percent.', unit: 'percent' }),
      })
      .describe('The thresholds, from the configuration.'),
    retention: policy.describe('The retention policy in force.'),
  }),
  errors: { storage_unavailable: 'The recordings directory is missing or unreadable.' },
  examples: [
    {
      params: {},
      result: STORAGE_INFO,
    },
  ],
});

export const setRetentionPolicy = defineMethod({
  name: 'set_retention_policy',
  summary:
    'Sets what may be deleted automatically (age, size or manual) and whether it runs; stored across restarts.',
  description:
    'A limit left out keeps its current value. The stored policy wins over the configuration file from now on; a run under the previous policy stops before its next delete.',
  access: 'admin',
  params: z
    .strictObject({
      policy_type: z
        .enum(['age', 'size', 'manual'], { error: 'expected age, size or manual' })
        .describe(
          'age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual: nothing.',
        ),
      enabled: z
        .boolean({ error: 'expected true or false' })
        .describe('Whether it runs by itself.'),
      max_age_days: z
        .number({ error: 'expected a number of days above 0' })
        .positive({ error: 'expected a number of days above 0' })
        .max(36_500, { error: 'expected at most 100 years' })
        .meta({ description: 'The age limit.', unit: 'days' })
        .optional(),
      max_size_gb: z
        .number({ error: 'expected a size in GB above 0' })
        .positive({ error: 'expected a size in GB above 0' })
        .meta({
          description:
            'The size limit, recordings and snapshots together; required for a size policy.',
          unit: 'GB (10^9 bytes)',
        })
        .optional(),
    })
    .refine((p) => p.policy_type !== 'size' || p.max_size_gb !== undefined, {
      error: 'a size policy needs max_size_gb',
      path: ['max_size_gb'],
    }),
  result: policy.describe('The policy now in force.'),
  errors: { invalid_params: 'A size policy is set without max_size_gb.' },
  examples: [
    {
      params: { policy_type: 'age', max_age_days: 30, enabled: true },
      result: {
        policy_type: 'age',
        enabled: true,
        max_age_days: 30,
        max_size_gb: null,
        source: 'api',
        updated_at: '2025-06-01T14:30:00.000Z',
      },
    },
  ],
});

export const cleanupOldFiles = defineMethod({
  name: 'cleanup_old_files',
  summary:
    'Applies the retention policy now (enabled or not): deletes old files oldest first, never one being written.',
  access: 'admin',
  params: z.strictObject({}),
  result: z.object({
    cleanup_executed: z
      .boolean()
      .describe('False when the policy is manual: nothing was looked at.'),
    files_deleted: count('How many files were deleted.'),
    space_freed: bytes('What they took.'),
    message: z.string().describe('What happened, as a sentence.'),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        cleanup_executed: true,
        files_deleted: 3,
        space_freed: 676254720,
        message: 'Deleted 3 files older than 30 days, freeing 676254720 bytes.',
      },
    },
  ],
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
