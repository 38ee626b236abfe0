// Generated from the server's method contracts by `npm run gen:api`. Do not edit.

/** Binds a JWT or an API key to this connection; later calls act with its role. (role: public) */
export interface AuthenticateParams {
  /**
   * A JWT signed with the service secret (`camera-service token`), or an API key (`camera-service keys create`).
   */
  auth_token: string;
}

export interface AuthenticateResult {
  /**
   * Always true: a refused credential is an error.
   */
  authenticated: true;
  /**
   * The credential's role: what this connection may call.
   */
  role: 'viewer' | 'operator' | 'admin';
  /**
   * What the role may do: view (viewer), control cameras (operator), admin.
   */
  permissions: ('view' | 'control' | 'admin')[];
  expires_at: string | null;
  /**
   * Identifies this authentication in the audit log.
   */
  session_id: string;
}

/** Lists the API keys, active and revoked, without their secrets. (role: admin) */
export interface ListApiKeysParams {}

export interface ListApiKeysResult {
  /**
   * Every key, oldest first.
   */
  keys: {
    /**
     * The key id: the 8 hex digits after `csk_` in the key.
     */
    id: string;
    /**
     * Who or what the key is for.
     */
    name: string;
    /**
     * What the key may do.
     */
    role: 'viewer' | 'operator' | 'admin';
    /**
     * When the key was created. (ISO 8601 UTC)
     */
    created_at: string;
    revoked_at: string | null;
  }[];
  /**
   * How many keys there are.
   */
  total: number;
}

/** Creates an API key and returns it: the only time its secret is shown. (role: admin) */
export interface CreateApiKeyParams {
  /**
   * Who or what the key is for (unique among active keys).
   */
  name: string;
  /**
   * What it may do.
   */
  role: 'viewer' | 'operator' | 'admin';
}

export interface CreateApiKeyResult {
  /**
   * The key id: the 8 hex digits after `csk_` in the key.
   */
  id: string;
  /**
   * Who or what the key is for.
   */
  name: string;
  /**
   * What the key may do.
   */
  role: 'viewer' | 'operator' | 'admin';
  /**
   * When the key was created. (ISO 8601 UTC)
   */
  created_at: string;
  /**
   * The key, `csk_<id>_<secret>`: store it now, it is not shown again.
   */
  key: string;
}

/** Revokes an API key: the next call of every connection using it is refused. (role: admin) */
export interface RevokeApiKeyParams {
  /**
   * The key id, as list_api_keys gives it (the 8 hex digits after `csk_`).
   */
  id: string;
}

export interface RevokeApiKeyResult {
  /**
   * The revoked key id.
   */
  id: string;
  /**
   * Always true: an unknown id is an error.
   */
  revoked: true;
}

/** Checks that the server answers. Returns "pong". (role: viewer) */
export interface PingParams {}

/**
 * Always "pong".
 */
export type PingResult = 'pong';

/** Describes the server: name, version, capabilities, formats, limits and methods. (role: admin) */
export interface GetServerInfoParams {}

export interface GetServerInfoResult {
  /**
   * The product name.
   */
  name: string;
  /**
   * The service's version.
   */
  version: string;
  /**
   * The API's version: it changes when a method changes.
   */
  api_version: string;
  /**
   * Features this server has, e.g. "recordings".
   */
  capabilities: string[];
  /**
   * Formats of recordings (start_recording `format`) and snapshots.
   */
  supported_formats: string[];
  /**
   * How many cameras the service tracks at most (`camera.max_cameras`).
   */
  max_cameras: number;
  /**
   * Every method of this server, in alphabetical order.
   */
  methods: string[];
  /**
   * The API's limits, from the configuration.
   */
  limits: {
    /**
     * The largest message the server reads; larger ones close the connection (1009). (bytes)
     */
    max_message_bytes: number;
    /**
     * The most requests one batch may hold.
     */
    max_batch_requests: number;
    /**
     * The most WebSocket connections at once.
     */
    max_connections: number;
  };
}

/** Overall health with per-component detail, uptime and version. (role: admin) */
export interface GetStatusParams {}

export interface GetStatusResult {
  /**
   * healthy; degraded: works in part; unhealthy: a component does not work.
   */
  status: 'healthy' | 'degraded' | 'unhealthy';
  /**
   * Since the service started. (seconds)
   */
  uptime: number;
  /**
   * The service's version.
   */
  version: string;
  /**
   * Each component by name: websocket, cameras, storage, mediamtx.
   */
  components: {
    [k: string]:
      | {
          /**
           * healthy; degraded: works in part; unhealthy: a component does not work.
           */
          status: 'healthy' | 'degraded' | 'unhealthy';
          /**
           * Whether the service is unhealthy when this component is.
           */
          critical: boolean;
          /**
           * What is wrong, as a sentence; absent when healthy.
           */
          message?: string;
          /**
           * The component's own figures.
           */
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
  /**
   * WebSocket connections open now.
   */
  active_connections: number;
  /**
   * JSON-RPC calls handled since the start.
   */
  total_requests: number;
  /**
   * Calls answered with an error.
   */
  failed_requests: number;
  /**
   * Mean time to handle a call. (milliseconds)
   */
  average_response_time: number;
  /**
   * failed_requests / total_requests (0 before any).
   */
  error_rate: number;
  /**
   * The service process's memory (not ffmpeg's or the media server's).
   */
  memory_usage: {
    /**
     * Resident set size of the process. (bytes)
     */
    rss_bytes: number;
    /**
     * JavaScript heap in use. (bytes)
     */
    heap_used_bytes: number;
    /**
     * JavaScript heap reserved. (bytes)
     */
    heap_total_bytes: number;
  };
  /**
   * The service process's CPU use.
   */
  cpu_usage: {
    /**
     * Of one core, over the last few seconds (above 100 on several cores). (percent)
     */
    percent: number;
    /**
     * CPU time in user mode since the start. (seconds)
     */
    user_seconds: number;
    /**
     * CPU time in the kernel since the start. (seconds)
     */
    system_seconds: number;
  };
  /**
   * Since the service started. (seconds)
   */
  uptime_seconds: number;
}

/** Lists the media server's paths with their state: source, ready, readers and bytes sent. (role: viewer) */
export interface GetStreamsParams {}

/**
 * One entry per media server path.
 */
export type GetStreamsResult = {
  /**
   * The path name: a camera's `stream_path`, or another path of the media server.
   */
  name: string;
  /**
   * What feeds the path, e.g. rtspSession for a publisher, rtspSource when pulled; null when nothing does (an on-demand stream nobody watches).
   */
  source: string | null;
  /**
   * Whether the stream runs and can be read now.
   */
  ready: boolean;
  /**
   * Readers attached now (players, recordings, the snapshot keeper).
   */
  readers: number;
  /**
   * Sent to readers since the stream started. (bytes)
   */
  bytes_sent: number;
}[];

/** Lists every known camera, connected or not, with its streams on the host you used. (role: viewer) */
export interface GetCameraListParams {}

export interface GetCameraListResult {
  /**
   * Declared cameras first, then V4L2 cameras by node number; unplugged ones stay listed until evicted (camera.max_cameras).
   */
  cameras: {
    /**
     * The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.
     */
    device: string;
    /**
     * CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says why).
     */
    status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
    /**
     * The camera's name, from the driver or the configuration.
     */
    name: string;
    /**
     * The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).
     */
    resolution: string;
    /**
     * The streamed frame rate; 0 when unknown. (frames per second)
     */
    fps: number;
    /**
     * Where to watch, on the host name the client connected with.
     */
    streams: {
      /**
       * RTSP URL of the live stream; null when there is no stream (yet).
       */
      rtsp: string | null;
      /**
       * WebRTC (WHEP) page URL; null when WebRTC is off or there is no stream.
       */
      webrtc: string | null;
      /**
       * HLS playlist URL; null when there is no stream.
       */
      hls: string | null;
      /**
       * What watching takes: a credential of the viewer role or above; null: anyone may watch.
       */
      credential: 'viewer' | null;
      /**
       * The stream URLs with a credential in them, `{token}` standing for a JWT or API key: `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes it as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for the player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may watch or there is no stream.
       */
      token_urls: {
        /**
         * The RTSP URL with the credential as a query parameter.
         */
        rtsp: string;
        /**
         * The WebRTC page URL with it; null when WebRTC is off.
         */
        webrtc: string | null;
        /**
         * The HLS playlist URL with it.
         */
        hls: string;
      } | null;
    };
    /**
     * What the camera can do, from its probe.
     */
    capabilities: {
      /**
       * Capture formats the device offers (MJPG, YUYV, H264...).
       */
      formats: string[];
      /**
       * Sizes it offers, "WxH".
       */
      resolutions: string[];
      /**
       * Frame rates it offers, frames per second.
       */
      frame_rates: number[];
    };
    /**
     * The camera's recording.
     */
    recording: {
      /**
       * Whether the camera is recording now.
       */
      active: boolean;
      /**
       * The recording session; null when not recording.
       */
      session_id: string | null;
      /**
       * The file being written; null when not recording.
       */
      filename: string | null;
      /**
       * How long it has been recording; null when not recording. (seconds)
       */
      elapsed_seconds: number | null;
    };
    /**
     * v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.
     */
    kind: 'v4l2' | 'test_pattern' | 'url';
    /**
     * The stream name on the media server: camera<N> for /dev/video<N>, the id for declared cameras.
     */
    stream_path: string;
    /**
     * /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.
     */
    stable_id: string | null;
    /**
     * The V4L2 driver (uvcvideo...); null for declared cameras.
     */
    driver: string | null;
    /**
     * The bus the device is on (usb-0000:00:14.0-2); null when unknown.
     */
    bus: string | null;
    /**
     * The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.
     */
    capture_format: string | null;
    /**
     * Why the camera is in ERROR, as a sentence; null otherwise.
     */
    error: string | null;
    /**
     * Whether the stream runs now (on-demand streams start with their first reader).
     */
    stream_ready: boolean;
  }[];
  /**
   * How many cameras are listed.
   */
  total: number;
  /**
   * How many of them are CONNECTED.
   */
  connected: number;
}

/** One camera, with its stream's metrics from the media server. (role: viewer) */
export interface GetCameraStatusParams {
  /**
   * The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a declared camera.
   */
  device: string;
}

export interface GetCameraStatusResult {
  /**
   * The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.
   */
  device: string;
  /**
   * CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says why).
   */
  status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
  /**
   * The camera's name, from the driver or the configuration.
   */
  name: string;
  /**
   * The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).
   */
  resolution: string;
  /**
   * The streamed frame rate; 0 when unknown. (frames per second)
   */
  fps: number;
  /**
   * Where to watch, on the host name the client connected with.
   */
  streams: {
    /**
     * RTSP URL of the live stream; null when there is no stream (yet).
     */
    rtsp: string | null;
    /**
     * WebRTC (WHEP) page URL; null when WebRTC is off or there is no stream.
     */
    webrtc: string | null;
    /**
     * HLS playlist URL; null when there is no stream.
     */
    hls: string | null;
    /**
     * What watching takes: a credential of the viewer role or above; null: anyone may watch.
     */
    credential: 'viewer' | null;
    /**
     * The stream URLs with a credential in them, `{token}` standing for a JWT or API key: `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes it as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for the player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may watch or there is no stream.
     */
    token_urls: {
      /**
       * The RTSP URL with the credential as a query parameter.
       */
      rtsp: string;
      /**
       * The WebRTC page URL with it; null when WebRTC is off.
       */
      webrtc: string | null;
      /**
       * The HLS playlist URL with it.
       */
      hls: string;
    } | null;
  };
  /**
   * What the camera can do, from its probe.
   */
  capabilities: {
    /**
     * Capture formats the device offers (MJPG, YUYV, H264...).
     */
    formats: string[];
    /**
     * Sizes it offers, "WxH".
     */
    resolutions: string[];
    /**
     * Frame rates it offers, frames per second.
     */
    frame_rates: number[];
  };
  /**
   * The camera's recording.
   */
  recording: {
    /**
     * Whether the camera is recording now.
     */
    active: boolean;
    /**
     * The recording session; null when not recording.
     */
    session_id: string | null;
    /**
     * The file being written; null when not recording.
     */
    filename: string | null;
    /**
     * How long it has been recording; null when not recording. (seconds)
     */
    elapsed_seconds: number | null;
  };
  /**
   * v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.
   */
  kind: 'v4l2' | 'test_pattern' | 'url';
  /**
   * The stream name on the media server: camera<N> for /dev/video<N>, the id for declared cameras.
   */
  stream_path: string;
  /**
   * /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.
   */
  stable_id: string | null;
  /**
   * The V4L2 driver (uvcvideo...); null for declared cameras.
   */
  driver: string | null;
  /**
   * The bus the device is on (usb-0000:00:14.0-2); null when unknown.
   */
  bus: string | null;
  /**
   * The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.
   */
  capture_format: string | null;
  /**
   * Why the camera is in ERROR, as a sentence; null otherwise.
   */
  error: string | null;
  /**
   * Whether the stream runs now (on-demand streams start with their first reader).
   */
  stream_ready: boolean;
  /**
   * The stream's figures from the media server.
   */
  metrics: {
    /**
     * Sent to readers since the stream started. (bytes)
     */
    bytes_sent: number;
    /**
     * Readers of the stream now.
     */
    readers: number;
    /**
     * How long the stream has been ready; 0 while it is not. (seconds)
     */
    uptime: number;
  };
}

/** Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or from the device directly (tier 3). (role: operator) */
export interface TakeSnapshotParams {
  /**
   * The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a declared camera.
   */
  device: string;
  /**
   * The name to save the snapshot under: letters, digits, ".", "_" and "-", at most 200 characters, ending .jpg or .jpeg. Default: `<stream>_<date>_<time>_<random>.<format>`.
   */
  filename?: string;
  /**
   * The file's extension: snapshots are JPEG, named .jpg or .jpeg. Names the file the service makes; with `filename`, it must be the filename's extension. Default jpg.
   */
  format?: 'jpg' | 'jpeg';
  /**
   * JPEG quality, from 1 (smallest file) to 100 (best picture).
   */
  quality?: number;
  /**
   * Replace a snapshot of the same name; otherwise that is refused with -1011.
   */
  overwrite?: boolean;
}

export interface TakeSnapshotResult {
  /**
   * The camera, by its device (also when addressed by stream name).
   */
  device: string;
  /**
   * The snapshot's name in the snapshots directory.
   */
  filename: string;
  /**
   * Always SUCCESS: a failed snapshot is an error.
   */
  status: 'SUCCESS';
  /**
   * When the file was written. (ISO 8601 UTC)
   */
  timestamp: string;
  /**
   * The file's size. (bytes)
   */
  file_size: number;
  /**
   * The same name, for clients of the earlier API: download it from /files/snapshots/.
   */
  file_path: string;
  /**
   * 1: from the running stream; 2: the stream was started for it; 3: read from the device.
   */
  tier: 1 | 2 | 3;
  /**
   * From the request to the file in place. (milliseconds)
   */
  capture_ms: number;
}

/** Starts recording a camera (one recording per camera): until stopped, or for a duration; rotated into segments. (role: operator) */
export interface StartRecordingParams {
  /**
   * The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a declared camera.
   */
  device: string;
  /**
   * Stop after this long. Give at most one of duration, duration_seconds, duration_minutes and duration_hours; without any, the recording runs until stop_recording. (seconds)
   */
  duration?: number;
  /**
   * Stop after this long. Give at most one of duration, duration_seconds, duration_minutes and duration_hours; without any, the recording runs until stop_recording. (seconds)
   */
  duration_seconds?: number;
  /**
   * Stop after this long. Give at most one of duration, duration_seconds, duration_minutes and duration_hours; without any, the recording runs until stop_recording. (minutes)
   */
  duration_minutes?: number;
  /**
   * Stop after this long. Give at most one of duration, duration_seconds, duration_minutes and duration_hours; without any, the recording runs until stop_recording. (hours)
   */
  duration_hours?: number;
  /**
   * The container. Default: the configured recording.format (mp4 unless changed).
   */
  format?: 'mp4' | 'mkv';
  /**
   * Start a new file after this long (on a keyframe). Default: the configured recording.segment_seconds (1800 unless changed). (seconds)
   */
  segment_seconds?: number;
}

export interface StartRecordingResult {
  /**
   * The camera, by its device (also when addressed by stream name).
   */
  device: string;
  /**
   * Identifies the recording in notifications and in stop_recording.
   */
  session_id: string;
  /**
   * The first segment's file name.
   */
  filename: string;
  /**
   * Always STARTED: a refused start is an error.
   */
  status: 'STARTED';
  /**
   * When recording started. (ISO 8601 UTC)
   */
  start_time: string;
  duration: number | null;
  /**
   * The container in use.
   */
  format: 'mp4' | 'mkv';
  /**
   * The segment length in use. (seconds)
   */
  segment_seconds: number;
}

/** Stops a camera's recording, finalises its files and returns what was written, measured from the files. (role: operator) */
export interface StopRecordingParams {
  /**
   * The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a declared camera.
   */
  device: string;
}

export interface StopRecordingResult {
  /**
   * The camera, by its device (also when addressed by stream name).
   */
  device: string;
  /**
   * The recording that stopped.
   */
  session_id: string;
  /**
   * Its first file.
   */
  filename: string;
  /**
   * Always STOPPED.
   */
  status: 'STOPPED';
  /**
   * When recording started. (ISO 8601 UTC)
   */
  start_time: string;
  /**
   * When it stopped. (ISO 8601 UTC)
   */
  end_time: string;
  /**
   * Of video in the files, per ffprobe. (seconds)
   */
  duration: number;
  /**
   * Of all its files. (bytes)
   */
  file_size: number;
  /**
   * Every file it wrote, in order.
   */
  files: string[];
  /**
   * Why it stopped: "manual" for stop_recording.
   */
  reason: string;
}

/** Lists recordings, newest first unless sorted otherwise, a page at a time. (role: viewer) */
export interface ListRecordingsParams {
  /**
   * How many files to return at most (a page).
   */
  limit?: number;
  /**
   * How many files to skip: the next page starts at offset + limit.
   */
  offset?: number;
  /**
   * Only this camera's files: its device (`/dev/video0`) or stream name (`camera0`); files of a camera no longer known are found by stream name. An unknown camera lists nothing.
   */
  device?: string;
  /**
   * newest or oldest: by modification time; name: alphabetical; largest: by size.
   */
  sort?: 'newest' | 'oldest' | 'name' | 'largest';
}

export interface ListRecordingsResult {
  /**
   * This page of files.
   */
  files: {
    /**
     * The file's name: the argument of the info and delete methods.
     */
    filename: string;
    /**
     * The file's size now (a recording in progress grows). (bytes)
     */
    file_size: number;
    /**
     * When the file was last written. (ISO 8601 UTC)
     */
    modified_time: string;
    /**
     * When the file was created (its birth time; its modification time where the file system keeps none). (ISO 8601 UTC)
     */
    created_time: string;
    /**
     * Recordings only, and only once get_recording_info has measured this version of the file (a list never runs ffprobe): absent otherwise. get_recording_info always gives it. (seconds)
     */
    duration?: number;
    /**
     * The camera the file came from, by its device; the stream name for a camera no longer known; null for a name without one.
     */
    device: string | null;
    /**
     * Path of the HTTP download on this port: GET it with your credential.
     */
    download_url: string;
    /**
     * A recording still being written (it cannot be deleted).
     */
    in_progress: boolean;
  }[];
  /**
   * How many files match, over all pages.
   */
  total: number;
  /**
   * The limit applied.
   */
  limit: number;
  /**
   * The offset applied.
   */
  offset: number;
}

/** Lists snapshots, newest first unless sorted otherwise, a page at a time. (role: viewer) */
export interface ListSnapshotsParams {
  /**
   * How many files to return at most (a page).
   */
  limit?: number;
  /**
   * How many files to skip: the next page starts at offset + limit.
   */
  offset?: number;
  /**
   * Only this camera's files: its device (`/dev/video0`) or stream name (`camera0`); files of a camera no longer known are found by stream name. An unknown camera lists nothing.
   */
  device?: string;
  /**
   * newest or oldest: by modification time; name: alphabetical; largest: by size.
   */
  sort?: 'newest' | 'oldest' | 'name' | 'largest';
}

export interface ListSnapshotsResult {
  /**
   * This page of files.
   */
  files: {
    /**
     * The file's name: the argument of the info and delete methods.
     */
    filename: string;
    /**
     * The file's size now (a recording in progress grows). (bytes)
     */
    file_size: number;
    /**
     * When the file was last written. (ISO 8601 UTC)
     */
    modified_time: string;
    /**
     * When the file was created (its birth time; its modification time where the file system keeps none). (ISO 8601 UTC)
     */
    created_time: string;
    /**
     * Recordings only, and only once get_recording_info has measured this version of the file (a list never runs ffprobe): absent otherwise. get_recording_info always gives it. (seconds)
     */
    duration?: number;
    /**
     * The camera the file came from, by its device; the stream name for a camera no longer known; null for a name without one.
     */
    device: string | null;
    /**
     * Path of the HTTP download on this port: GET it with your credential.
     */
    download_url: string;
    /**
     * A recording still being written (it cannot be deleted).
     */
    in_progress: boolean;
  }[];
  /**
   * How many files match, over all pages.
   */
  total: number;
  /**
   * The limit applied.
   */
  limit: number;
  /**
   * The offset applied.
   */
  offset: number;
}

/** A recording's size, duration, codec and resolution (from ffprobe). (role: viewer) */
export interface GetRecordingInfoParams {
  /**
   * The file name, as the list methods give it.
   */
  filename: string;
}

export interface GetRecordingInfoResult {
  /**
   * The file's name: the argument of the info and delete methods.
   */
  filename: string;
  /**
   * The file's size now (a recording in progress grows). (bytes)
   */
  file_size: number;
  /**
   * When the file was last written. (ISO 8601 UTC)
   */
  modified_time: string;
  /**
   * When the file was created (its birth time; its modification time where the file system keeps none). (ISO 8601 UTC)
   */
  created_time: string;
  duration: number | null;
  /**
   * The camera the file came from, by its device; the stream name for a camera no longer known; null for a name without one.
   */
  device: string | null;
  /**
   * Path of the HTTP download on this port: GET it with your credential.
   */
  download_url: string;
  /**
   * A recording still being written (it cannot be deleted).
   */
  in_progress: boolean;
  /**
   * The video codec (h264...); null when unknown.
   */
  codec: string | null;
  /**
   * "WxH"; null when unknown.
   */
  resolution: string | null;
}

/** A snapshot's size and resolution. (role: viewer) */
export interface GetSnapshotInfoParams {
  /**
   * The file name, as the list methods give it.
   */
  filename: string;
}

export interface GetSnapshotInfoResult {
  /**
   * The file's name: the argument of the info and delete methods.
   */
  filename: string;
  /**
   * The file's size now (a recording in progress grows). (bytes)
   */
  file_size: number;
  /**
   * When the file was last written. (ISO 8601 UTC)
   */
  modified_time: string;
  /**
   * When the file was created (its birth time; its modification time where the file system keeps none). (ISO 8601 UTC)
   */
  created_time: string;
  /**
   * The camera the file came from, by its device; the stream name for a camera no longer known; null for a name without one.
   */
  device: string | null;
  /**
   * Path of the HTTP download on this port: GET it with your credential.
   */
  download_url: string;
  /**
   * "WxH"; null when the file cannot be read as an image.
   */
  resolution: string | null;
}

/** Deletes a recording file; one being written is refused (stop the recording first). (role: operator) */
export interface DeleteRecordingParams {
  /**
   * The file name, as the list methods give it.
   */
  filename: string;
}

export interface DeleteRecordingResult {
  /**
   * The deleted file.
   */
  filename: string;
  /**
   * Always true: a refused delete is an error.
   */
  deleted: true;
  /**
   * What happened, as a sentence.
   */
  message: string;
}

/** Deletes a snapshot file. (role: operator) */
export interface DeleteSnapshotParams {
  /**
   * The file name, as the list methods give it.
   */
  filename: string;
}

export interface DeleteSnapshotResult {
  /**
   * The deleted file.
   */
  filename: string;
  /**
   * Always true: a refused delete is an error.
   */
  deleted: true;
  /**
   * What happened, as a sentence.
   */
  message: string;
}

/** How full the volume holding the recordings is, what the media takes, and which threshold it has reached. (role: admin) */
export interface GetStorageInfoParams {}

export interface GetStorageInfoResult {
  /**
   * The size of the volume holding the recordings directory. (bytes)
   */
  total_space: number;
  /**
   * Used on it, by anything. (bytes)
   */
  used_space: number;
  /**
   * Free for the service to use (root's reserve excluded). (bytes)
   */
  available_space: number;
  /**
   * How full the volume is, as df counts it (root's reserve excluded): what the thresholds compare. (percent)
   */
  usage_percentage: number;
  /**
   * What the recordings take. (bytes)
   */
  recordings_size: number;
  /**
   * What the snapshots take. (bytes)
   */
  snapshots_size: number;
  /**
   * How many recordings there are.
   */
  recordings_count: number;
  /**
   * How many snapshots there are.
   */
  snapshots_count: number;
  /**
   * Whether warn_percent (or more) is reached.
   */
  low_space_warning: boolean;
  /**
   * The highest threshold reached: block refuses new recordings; critical also stops them.
   */
  threshold_status: 'ok' | 'warn' | 'block' | 'critical';
  /**
   * The thresholds, from the configuration.
   */
  thresholds: {
    /**
     * storage.warn_percent. (percent)
     */
    warn_percent: number;
    /**
     * storage.block_percent. (percent)
     */
    block_percent: number;
    /**
     * storage.critical_percent. (percent)
     */
    critical_percent: number;
  };
  /**
   * The retention policy in force.
   */
  retention: {
    /**
     * age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual: nothing.
     */
    policy_type: 'age' | 'size' | 'manual';
    /**
     * Whether it runs by itself (every retention.check_interval_seconds); cleanup_old_files runs it anyway.
     */
    enabled: boolean;
    /**
     * The age limit of the age policy. (days)
     */
    max_age_days: number;
    /**
     * The size limit of the size policy, recordings and snapshots together; null: none set. (GB (10^9 bytes))
     */
    max_size_gb: number | null;
    /**
     * config: the configuration file's; api: set with set_retention_policy (stored).
     */
    source: 'config' | 'api';
    updated_at: string | null;
  };
}

/** Sets what may be deleted automatically (age, size or manual) and whether it runs; stored across restarts. (role: admin) */
export interface SetRetentionPolicyParams {
  /**
   * age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual: nothing.
   */
  policy_type: 'age' | 'size' | 'manual';
  /**
   * Whether it runs by itself.
   */
  enabled: boolean;
  /**
   * The age limit. (days)
   */
  max_age_days?: number;
  /**
   * The size limit, recordings and snapshots together; required for a size policy. (GB (10^9 bytes))
   */
  max_size_gb?: number;
}

/**
 * The policy now in force.
 */
export interface SetRetentionPolicyResult {
  /**
   * age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual: nothing.
   */
  policy_type: 'age' | 'size' | 'manual';
  /**
   * Whether it runs by itself (every retention.check_interval_seconds); cleanup_old_files runs it anyway.
   */
  enabled: boolean;
  /**
   * The age limit of the age policy. (days)
   */
  max_age_days: number;
  /**
   * The size limit of the size policy, recordings and snapshots together; null: none set. (GB (10^9 bytes))
   */
  max_size_gb: number | null;
  /**
   * config: the configuration file's; api: set with set_retention_policy (stored).
   */
  source: 'config' | 'api';
  updated_at: string | null;
}

/** Applies the retention policy now (enabled or not): deletes old files oldest first, never one being written. (role: admin) */
export interface CleanupOldFilesParams {}

export interface CleanupOldFilesResult {
  /**
   * False when the policy is manual: nothing was looked at.
   */
  cleanup_executed: boolean;
  /**
   * How many files were deleted.
   */
  files_deleted: number;
  /**
   * What they took. (bytes)
   */
  space_freed: number;
  /**
   * What happened, as a sentence.
   */
  message: string;
}

/** A camera was connected, disconnected, failed, or its stream became ready; params are the camera object. */
export interface CameraStatusUpdateNotification {
  /**
   * The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.
   */
  device: string;
  /**
   * CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says why).
   */
  status: 'CONNECTED' | 'DISCONNECTED' | 'ERROR';
  /**
   * The camera's name, from the driver or the configuration.
   */
  name: string;
  /**
   * The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).
   */
  resolution: string;
  /**
   * The streamed frame rate; 0 when unknown. (frames per second)
   */
  fps: number;
  /**
   * Where to watch, on the host name the client connected with.
   */
  streams: {
    /**
     * RTSP URL of the live stream; null when there is no stream (yet).
     */
    rtsp: string | null;
    /**
     * WebRTC (WHEP) page URL; null when WebRTC is off or there is no stream.
     */
    webrtc: string | null;
    /**
     * HLS playlist URL; null when there is no stream.
     */
    hls: string | null;
    /**
     * What watching takes: a credential of the viewer role or above; null: anyone may watch.
     */
    credential: 'viewer' | null;
    /**
     * The stream URLs with a credential in them, `{token}` standing for a JWT or API key: `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes it as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for the player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may watch or there is no stream.
     */
    token_urls: {
      /**
       * The RTSP URL with the credential as a query parameter.
       */
      rtsp: string;
      /**
       * The WebRTC page URL with it; null when WebRTC is off.
       */
      webrtc: string | null;
      /**
       * The HLS playlist URL with it.
       */
      hls: string;
    } | null;
  };
  /**
   * What the camera can do, from its probe.
   */
  capabilities: {
    /**
     * Capture formats the device offers (MJPG, YUYV, H264...).
     */
    formats: string[];
    /**
     * Sizes it offers, "WxH".
     */
    resolutions: string[];
    /**
     * Frame rates it offers, frames per second.
     */
    frame_rates: number[];
  };
  /**
   * The camera's recording.
   */
  recording: {
    /**
     * Whether the camera is recording now.
     */
    active: boolean;
    /**
     * The recording session; null when not recording.
     */
    session_id: string | null;
    /**
     * The file being written; null when not recording.
     */
    filename: string | null;
    /**
     * How long it has been recording; null when not recording. (seconds)
     */
    elapsed_seconds: number | null;
  };
  /**
   * v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.
   */
  kind: 'v4l2' | 'test_pattern' | 'url';
  /**
   * The stream name on the media server: camera<N> for /dev/video<N>, the id for declared cameras.
   */
  stream_path: string;
  /**
   * /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.
   */
  stable_id: string | null;
  /**
   * The V4L2 driver (uvcvideo...); null for declared cameras.
   */
  driver: string | null;
  /**
   * The bus the device is on (usb-0000:00:14.0-2); null when unknown.
   */
  bus: string | null;
  /**
   * The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.
   */
  capture_format: string | null;
  /**
   * Why the camera is in ERROR, as a sentence; null otherwise.
   */
  error: string | null;
  /**
   * Whether the stream runs now (on-demand streams start with their first reader).
   */
  stream_ready: boolean;
}

/** A recording started, rotated to a new file, stopped (reason: manual, duration reached, camera disconnected, storage critical, media server lost, stream ended, service stopping) or failed (reason from ffmpeg, or its directory or file removed while recording). */
export interface RecordingStatusUpdateNotification {
  /**
   * The camera, by its device.
   */
  device: string;
  /**
   * ROTATED: a new segment file was started (`filename`).
   */
  status: 'STARTED' | 'ROTATED' | 'STOPPED' | 'FAILED';
  /**
   * The recording.
   */
  session_id: string;
  /**
   * STARTED, ROTATED: the new file; STOPPED, FAILED: the first file.
   */
  filename: string;
  duration: number | null;
  /**
   * STOPPED, FAILED: why.
   */
  reason?: string;
  /**
   * STOPPED, FAILED: every file it wrote.
   */
  files?: string[];
}

/** Every method: its params and result. */
export interface Methods {
  authenticate: { params: AuthenticateParams; result: AuthenticateResult };
  list_api_keys: { params: ListApiKeysParams; result: ListApiKeysResult };
  create_api_key: { params: CreateApiKeyParams; result: CreateApiKeyResult };
  revoke_api_key: { params: RevokeApiKeyParams; result: RevokeApiKeyResult };
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
