// Generated from the server's method contracts by `npm run gen:api`. Do not edit.

/** Binds a JWT or an API key to this connection; later calls act with its role. (role: public) */
export interface AuthenticateParams {
  auth_token: string;
}

export interface AuthenticateResult {
  authenticated: true;
  role: 'viewer' | 'operator' | 'admin';
  /**
   * what the role may do
   */
  permissions: ('view' | 'control' | 'admin')[];
  /**
   * ISO 8601 expiry of the credential; null for API keys
   */
  expires_at: string | null;
  /**
   * identifies this authentication in the audit log
   */
  session_id: string;
}

/** Checks that the server answers. Returns "pong". (role: viewer) */
export interface PingParams {}

export type PingResult = 'pong';

/** Describes the server: name, version, capabilities, formats, limits and methods. (role: admin) */
export interface GetServerInfoParams {}

export interface GetServerInfoResult {
  name: string;
  version: string;
  api_version: string;
  capabilities: string[];
  supported_formats: string[];
  max_cameras: number;
  methods: string[];
  limits: {
    max_message_bytes: number;
    max_batch_requests: number;
    max_connections: number;
  };
}

/** Overall health with per-component detail, uptime and version. (role: admin) */
export interface GetStatusParams {}

export interface GetStatusResult {
  status: 'healthy' | 'degraded' | 'unhealthy';
  /**
   * seconds since the service started
   */
  uptime: number;
  version: string;
  components: {
    [k: string]:
      | {
          status: 'healthy' | 'degraded' | 'unhealthy';
          critical: boolean;
          message?: string;
          details?: {
            [k: string]: unknown | undefined;
          };
        }
      | undefined;
  };
}

/** Request, connection and process figures since the service started. (role: admin) */
export interface GetMetricsParams {}

export interface GetMetricsResult {
  active_connections: number;
  total_requests: number;
  failed_requests: number;
  /**
   * mean handling time in milliseconds
   */
  average_response_time: number;
  /**
   * failed requests over all requests
   */
  error_rate: number;
  memory_usage: {
    rss_bytes: number;
    heap_used_bytes: number;
    heap_total_bytes: number;
  };
  cpu_usage: {
    /**
     * percent of one core over the last few seconds
     */
    percent: number;
    user_seconds: number;
    system_seconds: number;
  };
  uptime_seconds: number;
}

/** Lists the media server's paths with their state: source, ready, readers and bytes sent. (role: viewer) */
export interface GetStreamsParams {}

export type GetStreamsResult = {
  name: string;
  source: string | null;
  ready: boolean;
  readers: number;
  bytes_sent: number;
}[];

/** Lists every known camera, connected or not, with its streams on the host you used. (role: viewer) */
export interface GetCameraListParams {}

export interface GetCameraListResult {
  cameras: {
    device: string;
    status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
    name: string;
    resolution: string;
    fps: number;
    streams: {
      rtsp: string | null;
      webrtc: string | null;
      hls: string | null;
      credential: 'viewer' | null;
      token_urls: {
        rtsp: string;
        webrtc: string | null;
        hls: string;
      } | null;
    };
    capabilities: {
      formats: string[];
      resolutions: string[];
      frame_rates: number[];
    };
    recording: {
      active: boolean;
      session_id: string | null;
      filename: string | null;
      elapsed_seconds: number | null;
    };
    kind: 'v4l2' | 'test_pattern' | 'url';
    stream_path: string;
    stable_id: string | null;
    driver: string | null;
    bus: string | null;
    capture_format: string | null;
    error: string | null;
    stream_ready: boolean;
  }[];
  total: number;
  connected: number;
}

/** One camera, with its stream's metrics from the media server. (role: viewer) */
export interface GetCameraStatusParams {
  device: string;
}

export interface GetCameraStatusResult {
  device: string;
  status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
  name: string;
  resolution: string;
  fps: number;
  streams: {
    rtsp: string | null;
    webrtc: string | null;
    hls: string | null;
    credential: 'viewer' | null;
    token_urls: {
      rtsp: string;
      webrtc: string | null;
      hls: string;
    } | null;
  };
  capabilities: {
    formats: string[];
    resolutions: string[];
    frame_rates: number[];
  };
  recording: {
    active: boolean;
    session_id: string | null;
    filename: string | null;
    elapsed_seconds: number | null;
  };
  kind: 'v4l2' | 'test_pattern' | 'url';
  stream_path: string;
  stable_id: string | null;
  driver: string | null;
  bus: string | null;
  capture_format: string | null;
  error: string | null;
  stream_ready: boolean;
  metrics: {
    bytes_sent: number;
    readers: number;
    uptime: number;
  };
}

/** Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or from the device directly (tier 3). (role: operator) */
export interface TakeSnapshotParams {
  device: string;
  filename?: string;
  format?: 'jpg' | 'jpeg';
  quality?: number;
  overwrite?: boolean;
}

export interface TakeSnapshotResult {
  device: string;
  filename: string;
  status: 'SUCCESS';
  timestamp: string;
  file_size: number;
  file_path: string;
  tier: 1 | 2 | 3;
  capture_ms: number;
}

/** Starts recording a camera (one recording per camera): until stopped, or for a duration; rotated into segments. (role: operator) */
export interface StartRecordingParams {
  device: string;
  duration?: number;
  duration_seconds?: number;
  duration_minutes?: number;
  duration_hours?: number;
  format?: 'mp4' | 'mkv';
  segment_seconds?: number;
}

export interface StartRecordingResult {
  device: string;
  session_id: string;
  filename: string;
  status: 'STARTED';
  start_time: string;
  duration: number | null;
  format: 'mp4' | 'mkv';
  segment_seconds: number;
}

/** Stops a camera's recording, finalises its files and returns what was written, measured from the files. (role: operator) */
export interface StopRecordingParams {
  device: string;
}

export interface StopRecordingResult {
  device: string;
  session_id: string;
  filename: string;
  status: 'STOPPED';
  start_time: string;
  end_time: string;
  duration: number;
  file_size: number;
  files: string[];
  reason: string;
}

/** Lists recordings, newest first unless sorted otherwise, a page at a time. (role: viewer) */
export interface ListRecordingsParams {
  limit?: number;
  offset?: number;
  device?: string;
  sort?: 'newest' | 'oldest' | 'name' | 'largest';
}

export interface ListRecordingsResult {
  files: {
    filename: string;
    file_size: number;
    modified_time: string;
    created_time: string;
    duration?: number;
    device: string | null;
    download_url: string;
    in_progress: boolean;
  }[];
  total: number;
  limit: number;
  offset: number;
}

/** Lists snapshots, newest first unless sorted otherwise, a page at a time. (role: viewer) */
export interface ListSnapshotsParams {
  limit?: number;
  offset?: number;
  device?: string;
  sort?: 'newest' | 'oldest' | 'name' | 'largest';
}

export interface ListSnapshotsResult {
  files: {
    filename: string;
    file_size: number;
    modified_time: string;
    created_time: string;
    duration?: number;
    device: string | null;
    download_url: string;
    in_progress: boolean;
  }[];
  total: number;
  limit: number;
  offset: number;
}

/** A recording's size, duration, codec and resolution (from ffprobe). (role: viewer) */
export interface GetRecordingInfoParams {
  filename: string;
}

export interface GetRecordingInfoResult {
  filename: string;
  file_size: number;
  modified_time: string;
  created_time: string;
  duration: number | null;
  device: string | null;
  download_url: string;
  in_progress: boolean;
  codec: string | null;
  resolution: string | null;
}

/** A snapshot's size and resolution. (role: viewer) */
export interface GetSnapshotInfoParams {
  filename: string;
}

export interface GetSnapshotInfoResult {
  filename: string;
  file_size: number;
  modified_time: string;
  created_time: string;
  device: string | null;
  download_url: string;
  resolution: string | null;
}

/** Deletes a recording file; one being written is refused (stop the recording first). (role: operator) */
export interface DeleteRecordingParams {
  filename: string;
}

export interface DeleteRecordingResult {
  filename: string;
  deleted: true;
  message: string;
}

/** Deletes a snapshot file. (role: operator) */
export interface DeleteSnapshotParams {
  filename: string;
}

export interface DeleteSnapshotResult {
  filename: string;
  deleted: true;
  message: string;
}

/** How full the volume holding the recordings is, what the media takes, and which threshold it has reached. (role: admin) */
export interface GetStorageInfoParams {}

export interface GetStorageInfoResult {
  total_space: number;
  used_space: number;
  available_space: number;
  usage_percentage: number;
  recordings_size: number;
  snapshots_size: number;
  recordings_count: number;
  snapshots_count: number;
  low_space_warning: boolean;
  threshold_status: 'ok' | 'warn' | 'block' | 'critical';
  thresholds: {
    warn_percent: number;
    block_percent: number;
    critical_percent: number;
  };
  retention: {
    policy_type: 'age' | 'size' | 'manual';
    enabled: boolean;
    max_age_days: number;
    max_size_gb: number | null;
    source: 'config' | 'api';
    updated_at: string | null;
  };
}

/** Sets what may be deleted automatically (age, size or manual) and whether it runs; stored across restarts. (role: admin) */
export interface SetRetentionPolicyParams {
  policy_type: 'age' | 'size' | 'manual';
  enabled: boolean;
  max_age_days?: number;
  max_size_gb?: number;
}

export interface SetRetentionPolicyResult {
  policy_type: 'age' | 'size' | 'manual';
  enabled: boolean;
  max_age_days: number;
  max_size_gb: number | null;
  source: 'config' | 'api';
  updated_at: string | null;
}

/** Applies the retention policy now (enabled or not): deletes old files oldest first, never one being written. (role: admin) */
export interface CleanupOldFilesParams {}

export interface CleanupOldFilesResult {
  cleanup_executed: boolean;
  files_deleted: number;
  space_freed: number;
  message: string;
}

/** A camera was connected, disconnected, failed, or its stream became ready; params are the camera object. */
export interface CameraStatusUpdateNotification {
  device: string;
  status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
  name: string;
  resolution: string;
  fps: number;
  streams: {
    rtsp: string | null;
    webrtc: string | null;
    hls: string | null;
    credential: 'viewer' | null;
    token_urls: {
      rtsp: string;
      webrtc: string | null;
      hls: string;
    } | null;
  };
  capabilities: {
    formats: string[];
    resolutions: string[];
    frame_rates: number[];
  };
  recording: {
    active: boolean;
    session_id: string | null;
    filename: string | null;
    elapsed_seconds: number | null;
  };
  kind: 'v4l2' | 'test_pattern' | 'url';
  stream_path: string;
  stable_id: string | null;
  driver: string | null;
  bus: string | null;
  capture_format: string | null;
  error: string | null;
  stream_ready: boolean;
}

/** A recording started, rotated to a new file, stopped (reason: manual, duration reached, camera disconnected, storage critical, media server lost, stream ended, service stopping) or failed (reason from ffmpeg, or its directory or file removed while recording). */
export interface RecordingStatusUpdateNotification {
  device: string;
  status: 'STARTED' | 'ROTATED' | 'STOPPED' | 'FAILED';
  session_id: string;
  filename: string;
  duration: number | null;
  reason?: string;
  files?: string[];
}

/** Every method: its params and result. */
export interface Methods {
  authenticate: { params: AuthenticateParams; result: AuthenticateResult };
  ping: { params: PingParams; result: PingResult };
  get_server_info: { params: GetServerInfoParams; result: GetServerInfoResult };
  get_status: { params: GetStatusParams; result: GetStatusResult };
  get_metrics: { params: GetMetricsParams; result: GetMetricsResult };
  get_streams: { params: GetStreamsParams; result: GetStreamsResult };
  get_camera_list: { params: GetCameraListParams; result: GetCameraListResult };
  get_camera_status: { params: GetCameraStatusParams; result: GetCameraStatusResult };
  take_snapshot: { params: TakeSnapshotParams; result: TakeSnapshotResult };
  start_recording: { params: StartRecordingParams; result: StartRecordingResult };
  stop_recording: { params: StopRecordingParams; result: StopRecordingResult };
  list_recordings: { params: ListRecordingsParams; result: ListRecordingsResult };
  list_snapshots: { params: ListSnapshotsParams; result: ListSnapshotsResult };
  get_recording_info: { params: GetRecordingInfoParams; result: GetRecordingInfoResult };
  get_snapshot_info: { params: GetSnapshotInfoParams; result: GetSnapshotInfoResult };
  delete_recording: { params: DeleteRecordingParams; result: DeleteRecordingResult };
  delete_snapshot: { params: DeleteSnapshotParams; result: DeleteSnapshotResult };
  get_storage_info: { params: GetStorageInfoParams; result: GetStorageInfoResult };
  set_retention_policy: { params: SetRetentionPolicyParams; result: SetRetentionPolicyResult };
  cleanup_old_files: { params: CleanupOldFilesParams; result: CleanupOldFilesResult };
}

/** Every server notification: its params. */
export interface Notifications {
  camera_status_update: CameraStatusUpdateNotification;
  recording_status_update: RecordingStatusUpdateNotification;
}

export type MethodName = keyof Methods;
export type NotificationName = keyof Notifications;
