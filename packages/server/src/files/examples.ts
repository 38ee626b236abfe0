/** What the file methods' examples in the API reference show. */

export const recording = 'camera0_2025-06-01_14-30-00.mp4';
export const snapshot = 'camera0_2025-06-01_14-35-12_a1b2c3.jpg';
export const listedRecording = {
  filename: recording,
  file_size: 225418240,
  modified_time: '2025-06-01T15:00:00.104Z',
  created_time: '2025-06-01T14:30:00.319Z',
  device: '/dev/video0',
  download_url: `/files/recordings/${recording}`,
  in_progress: false,
};
export const listedSnapshot = {
  filename: snapshot,
  file_size: 182311,
  modified_time: '2025-06-01T14:35:12.211Z',
  created_time: '2025-06-01T14:35:12.211Z',
  device: '/dev/video0',
  download_url: `/files/snapshots/${snapshot}`,
};

export const STORAGE_INFO = {
  total_space: 270553174016,
  used_space: 59793838080,
  available_space: 196982210560,
  usage_percentage: 22.1,
  recordings_size: 2705531740,
  snapshots_size: 18231100,
  recordings_count: 12,
  snapshots_count: 100,
  low_space_warning: false,
  threshold_status: 'ok',
  thresholds: { warn_percent: 80, block_percent: 90, critical_percent: 95 },
  retention: {
    policy_type: 'age',
    enabled: true,
    max_age_days: 30,
    max_size_gb: null,
    source: 'api',
    updated_at: '2025-05-01T09:00:00.000Z',
  },
} as const;
