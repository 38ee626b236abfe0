# Generated from the server's method contracts by `npm run gen:api`. Do not edit.
"""Types, error classes and typed methods of the camera service API, one per contract."""

from typing import Any, Dict, List, Literal, Mapping, NotRequired, Optional, TypedDict, Union, cast

from .errors import RpcError


class CameraStreamsTokenUrls(TypedDict):
    #: The RTSP URL with the credential as a query parameter.
    rtsp: str
    #: The WebRTC page URL with it; null when WebRTC is off.
    webrtc: Optional[str]
    #: The HLS playlist URL with it.
    hls: str


class CameraStreams(TypedDict):
    """Where to watch, on the host name the client connected with."""

    #: RTSP URL of the live stream; null when there is no stream (yet).
    rtsp: Optional[str]
    #: WebRTC (WHEP) page URL; null when WebRTC is off or there is no stream.
    webrtc: Optional[str]
    #: HLS playlist URL; null when there is no stream.
    hls: Optional[str]
    #: What watching takes: a credential of the viewer role or above; null: anyone may watch.
    credential: Optional[Literal["viewer"]]
    #: The stream URLs with a credential in them, `{token}` standing for a JWT or API key:
    #: `rtsp://host:8554/cam?token={token}`, `.../index.m3u8?token={token}`. RTSP also takes it
    #: as the password (`rtsp://any:{token}@host:8554/cam`) when it is short enough for the
    #: player (ffmpeg keeps 127 bytes: API keys fit, JWTs do not). Null when anyone may watch or
    #: there is no stream.
    token_urls: Optional[CameraStreamsTokenUrls]


class CameraCapabilities(TypedDict):
    """What the camera can do, from its probe."""

    #: Capture formats the device offers (MJPG, YUYV, H264...).
    formats: List[str]
    #: Sizes it offers, "WxH".
    resolutions: List[str]
    #: Frame rates it offers, frames per second.
    frame_rates: List[float]


class CameraRecording(TypedDict):
    """The camera's recording."""

    #: Whether the camera is recording now.
    active: bool
    #: The recording session; null when not recording.
    session_id: Optional[str]
    #: The file being written; null when not recording.
    filename: Optional[str]
    #: How long it has been recording; null when not recording. (seconds)
    elapsed_seconds: Optional[float]


class Camera(TypedDict):
    """A camera as get_camera_list, get_camera_status and camera_status_update describe it."""

    #: The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.
    device: str
    #: CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says
    #: why).
    status: Literal["CONNECTED", "DISCONNECTED", "ERROR"]
    #: The camera's name, from the driver or the configuration.
    name: str
    #: The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).
    resolution: str
    #: The streamed frame rate; 0 when unknown. (frames per second)
    fps: float
    #: Where to watch, on the host name the client connected with.
    streams: CameraStreams
    #: What the camera can do, from its probe.
    capabilities: CameraCapabilities
    #: The camera's recording.
    recording: CameraRecording
    #: v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.
    kind: Literal["v4l2", "test_pattern", "url"]
    #: The stream name on the media server: camera<N> for /dev/video<N>, the id for declared
    #: cameras.
    stream_path: str
    #: /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.
    stable_id: Optional[str]
    #: The V4L2 driver (uvcvideo...); null for declared cameras.
    driver: Optional[str]
    #: The bus the device is on (usb-0000:00:14.0-2); null when unknown.
    bus: Optional[str]
    #: The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.
    capture_format: Optional[str]
    #: Why the camera is in ERROR, as a sentence; null otherwise.
    error: Optional[str]
    #: Whether the stream runs now (on-demand streams start with their first reader).
    stream_ready: bool


class FileInfo(TypedDict):
    """A recording or a snapshot as list_recordings and list_snapshots describe it."""

    #: The file's name: the argument of the info and delete methods.
    filename: str
    #: The file's size now (a recording in progress grows). (bytes)
    file_size: int
    #: When the file was last written. (ISO 8601 UTC)
    modified_time: str
    #: When the file was created (its birth time; its modification time where the file system
    #: keeps none). (ISO 8601 UTC)
    created_time: str
    #: Recordings only, and only once get_recording_info has measured this version of the file
    #: (a list never runs ffprobe): absent otherwise. get_recording_info always gives it.
    #: (seconds)
    duration: NotRequired[float]
    #: The camera the file came from, by its device; the stream name for a camera no longer
    #: known; null for a name without one.
    device: Optional[str]
    #: Path of the HTTP download on this port: GET it with your credential.
    download_url: str
    #: A recording still being written (it cannot be deleted).
    in_progress: bool


class RetentionPolicy(TypedDict):
    """What may be deleted automatically: get_storage_info and set_retention_policy."""

    #: age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual:
    #: nothing.
    policy_type: Literal["age", "size", "manual"]
    #: Whether it runs by itself (every retention.check_interval_seconds); cleanup_old_files
    #: runs it anyway.
    enabled: bool
    #: The age limit of the age policy. (days)
    max_age_days: float
    #: The size limit of the size policy, recordings and snapshots together; null: none set. (GB
    #: (10^9 bytes))
    max_size_gb: Optional[float]
    #: config: the configuration file's; api: set with set_retention_policy (stored).
    source: Literal["config", "api"]
    #: When set_retention_policy stored it; null for the configuration's.
    updated_at: Optional[str]


class AuthenticateParams(TypedDict):
    """The params of authenticate."""

    #: A JWT signed with the service secret (`camera-service token`), or an API key
    #: (`camera-service keys create`).
    auth_token: str


class AuthenticateResult(TypedDict):
    """The result of authenticate."""

    #: Always true: a refused credential is an error.
    authenticated: Literal[True]
    #: The credential's role: what this connection may call.
    role: Literal["viewer", "operator", "admin"]
    #: What the role may do: view (viewer), control cameras (operator), admin.
    permissions: List[Literal["view", "control", "admin"]]
    #: When the credential expires: the JWT `exp`; null for API keys.
    expires_at: Optional[str]
    #: Identifies this authentication in the audit log.
    session_id: str


class ListApiKeysParams(TypedDict):
    """The params of list_api_keys. No params."""


class ListApiKeysResultKeysItem(TypedDict):
    #: The key id: the 8 hex digits after `csk_` in the key.
    id: str
    #: Who or what the key is for.
    name: str
    #: What the key may do.
    role: Literal["viewer", "operator", "admin"]
    #: When the key was created. (ISO 8601 UTC)
    created_at: str
    #: When the key was revoked; null while it is active.
    revoked_at: Optional[str]


class ListApiKeysResult(TypedDict):
    """The result of list_api_keys."""

    #: Every key, oldest first.
    keys: List[ListApiKeysResultKeysItem]
    #: How many keys there are.
    total: int


class CreateApiKeyParams(TypedDict):
    """The params of create_api_key."""

    #: Who or what the key is for (unique among active keys).
    name: str
    #: What it may do.
    role: Literal["viewer", "operator", "admin"]


class CreateApiKeyResult(TypedDict):
    """The result of create_api_key."""

    #: The key id: the 8 hex digits after `csk_` in the key.
    id: str
    #: Who or what the key is for.
    name: str
    #: What the key may do.
    role: Literal["viewer", "operator", "admin"]
    #: When the key was created. (ISO 8601 UTC)
    created_at: str
    #: The key, `csk_<id>_<secret>`: store it now, it is not shown again.
    key: str


class RevokeApiKeyParams(TypedDict):
    """The params of revoke_api_key."""

    #: The key id, as list_api_keys gives it (the 8 hex digits after `csk_`).
    id: str


class RevokeApiKeyResult(TypedDict):
    """The result of revoke_api_key."""

    #: The revoked key id.
    id: str
    #: Always true: an unknown id is an error.
    revoked: Literal[True]


class PingParams(TypedDict):
    """The params of ping. No params."""


#: The result of ping.
PingResult = Literal["pong"]


class GetServerInfoParams(TypedDict):
    """The params of get_server_info. No params."""


class GetServerInfoResultLimits(TypedDict):
    """The API's limits, from the configuration."""

    #: The largest message the server reads; larger ones close the connection (1009). (bytes)
    max_message_bytes: int
    #: The most requests one batch may hold.
    max_batch_requests: int
    #: The most WebSocket connections at once.
    max_connections: int


class GetServerInfoResult(TypedDict):
    """The result of get_server_info."""

    #: The product name.
    name: str
    #: The service's version.
    version: str
    #: The API's version: it changes when a method changes.
    api_version: str
    #: Features this server has, e.g. "recordings".
    capabilities: List[str]
    #: Formats of recordings (start_recording `format`) and snapshots.
    supported_formats: List[str]
    #: How many cameras the service tracks at most (`camera.max_cameras`).
    max_cameras: int
    #: Every method of this server, in alphabetical order.
    methods: List[str]
    #: The API's limits, from the configuration.
    limits: GetServerInfoResultLimits


class GetStatusParams(TypedDict):
    """The params of get_status. No params."""


class GetStatusResultComponentsValue(TypedDict):
    #: healthy; degraded: works in part; unhealthy: a component does not work.
    status: Literal["healthy", "degraded", "unhealthy"]
    #: Whether the service is unhealthy when this component is.
    critical: bool
    #: What is wrong, as a sentence; absent when healthy.
    message: NotRequired[str]
    #: The component's own figures.
    details: NotRequired[Dict[str, Any]]


class GetStatusResult(TypedDict):
    """The result of get_status."""

    #: healthy; degraded: works in part; unhealthy: a component does not work.
    status: Literal["healthy", "degraded", "unhealthy"]
    #: Since the service started. (seconds)
    uptime: float
    #: The service's version.
    version: str
    #: Each component by name: websocket, cameras, storage, mediamtx.
    components: Dict[str, GetStatusResultComponentsValue]


class GetMetricsParams(TypedDict):
    """The params of get_metrics. No params."""


class GetMetricsResultMemoryUsage(TypedDict):
    """The service process's memory (not ffmpeg's or the media server's)."""

    #: Resident set size of the process. (bytes)
    rss_bytes: int
    #: JavaScript heap in use. (bytes)
    heap_used_bytes: int
    #: JavaScript heap reserved. (bytes)
    heap_total_bytes: int


class GetMetricsResultCpuUsage(TypedDict):
    """The service process's CPU use."""

    #: Of one core, over the last few seconds (above 100 on several cores). (percent)
    percent: float
    #: CPU time in user mode since the start. (seconds)
    user_seconds: float
    #: CPU time in the kernel since the start. (seconds)
    system_seconds: float


class GetMetricsResult(TypedDict):
    """The result of get_metrics."""

    #: WebSocket connections open now.
    active_connections: int
    #: JSON-RPC calls handled since the start.
    total_requests: int
    #: Calls answered with an error.
    failed_requests: int
    #: Mean time to handle a call. (milliseconds)
    average_response_time: float
    #: failed_requests / total_requests (0 before any).
    error_rate: float
    #: The service process's memory (not ffmpeg's or the media server's).
    memory_usage: GetMetricsResultMemoryUsage
    #: The service process's CPU use.
    cpu_usage: GetMetricsResultCpuUsage
    #: Since the service started. (seconds)
    uptime_seconds: float


class GetStreamsParams(TypedDict):
    """The params of get_streams. No params."""


class GetStreamsResultItem(TypedDict):
    #: The path name: a camera's `stream_path`, or another path of the media server.
    name: str
    #: What feeds the path, e.g. rtspSession for a publisher, rtspSource when pulled; null when
    #: nothing does (an on-demand stream nobody watches).
    source: Optional[str]
    #: Whether the stream runs and can be read now.
    ready: bool
    #: Readers attached now (players, recordings, the snapshot keeper).
    readers: int
    #: Sent to readers since the stream started. (bytes)
    bytes_sent: int


#: The result of get_streams.
GetStreamsResult = List[GetStreamsResultItem]


class GetCameraListParams(TypedDict):
    """The params of get_camera_list. No params."""


class GetCameraListResult(TypedDict):
    """The result of get_camera_list."""

    #: Declared cameras first, then V4L2 cameras by node number; unplugged ones stay listed
    #: until evicted (camera.max_cameras).
    cameras: List[Camera]
    #: How many cameras are listed.
    total: int
    #: How many of them are CONNECTED.
    connected: int


class GetCameraStatusParams(TypedDict):
    """The params of get_camera_status."""

    #: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a
    #: declared camera.
    device: str


class GetCameraStatusResultMetrics(TypedDict):
    """The stream's figures from the media server."""

    #: Sent to readers since the stream started. (bytes)
    bytes_sent: int
    #: Readers of the stream now.
    readers: int
    #: How long the stream has been ready; 0 while it is not. (seconds)
    uptime: float


class GetCameraStatusResult(TypedDict):
    """The result of get_camera_status."""

    #: The device node (`/dev/video0`) of a V4L2 camera; the configured id of a declared one.
    device: str
    #: CONNECTED: usable; DISCONNECTED: unplugged; ERROR: present but unusable (`error` says
    #: why).
    status: Literal["CONNECTED", "DISCONNECTED", "ERROR"]
    #: The camera's name, from the driver or the configuration.
    name: str
    #: The streamed size, "WxH"; empty when unknown (a network camera, an unprobed device).
    resolution: str
    #: The streamed frame rate; 0 when unknown. (frames per second)
    fps: float
    #: Where to watch, on the host name the client connected with.
    streams: CameraStreams
    #: What the camera can do, from its probe.
    capabilities: CameraCapabilities
    #: The camera's recording.
    recording: CameraRecording
    #: v4l2: a USB/V4L2 device; test_pattern and url: declared in the configuration.
    kind: Literal["v4l2", "test_pattern", "url"]
    #: The stream name on the media server: camera<N> for /dev/video<N>, the id for declared
    #: cameras.
    stream_path: str
    #: /dev/v4l/by-id/... when the kernel gives one: it survives re-plugging into another port.
    stable_id: Optional[str]
    #: The V4L2 driver (uvcvideo...); null for declared cameras.
    driver: Optional[str]
    #: The bus the device is on (usb-0000:00:14.0-2); null when unknown.
    bus: Optional[str]
    #: The capture format ffmpeg reads (MJPG, YUYV, H264...), for V4L2 cameras.
    capture_format: Optional[str]
    #: Why the camera is in ERROR, as a sentence; null otherwise.
    error: Optional[str]
    #: Whether the stream runs now (on-demand streams start with their first reader).
    stream_ready: bool
    #: The stream's figures from the media server.
    metrics: GetCameraStatusResultMetrics


class TakeSnapshotParams(TypedDict):
    """The params of take_snapshot."""

    #: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a
    #: declared camera.
    device: str
    #: The name to save the snapshot under: letters, digits, ".", "_" and "-", at most 200
    #: characters, ending .jpg or .jpeg. Default: `<stream>_<date>_<time>_<random>.<format>`.
    filename: NotRequired[str]
    #: The file's extension: snapshots are JPEG, named .jpg or .jpeg. Names the file the service
    #: makes; with `filename`, it must be the filename's extension. Default jpg.
    format: NotRequired[Literal["jpg", "jpeg"]]
    #: JPEG quality, from 1 (smallest file) to 100 (best picture).
    quality: NotRequired[int]
    #: Replace a snapshot of the same name; otherwise that is refused with -1011.
    overwrite: NotRequired[bool]


class TakeSnapshotResult(TypedDict):
    """The result of take_snapshot."""

    #: The camera, by its device (also when addressed by stream name).
    device: str
    #: The snapshot's name in the snapshots directory.
    filename: str
    #: Always SUCCESS: a failed snapshot is an error.
    status: Literal["SUCCESS"]
    #: When the file was written. (ISO 8601 UTC)
    timestamp: str
    #: The file's size. (bytes)
    file_size: int
    #: The same name, for clients of the earlier API: download it from /files/snapshots/.
    file_path: str
    #: 1: from the running stream; 2: the stream was started for it; 3: read from the device.
    tier: Union[Literal[1], Literal[2], Literal[3]]
    #: From the request to the file in place. (milliseconds)
    capture_ms: float


class StartRecordingParams(TypedDict):
    """The params of start_recording."""

    #: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the id of a
    #: declared camera.
    device: str
    #: Stop after this long. Give at most one of duration, duration_seconds, duration_minutes
    #: and duration_hours; without any, the recording runs until stop_recording. (seconds)
    duration: NotRequired[float]
    #: Stop after this long. Give at most one of duration, duration_seconds, duration_minutes
    #: and duration_hours; without any, the recording runs until stop_recording. (seconds)
    duration_seconds: NotRequired[float]
    #: Stop after this long. Give at most one of duration, duration_seconds, duration_minutes
    #: and duration_hours; without any, the recording runs until stop_recording. (minutes)
    duration_minutes: NotRequired[float]
    #: Stop after this long. Give at most one of duration, duration_seconds, duration_minutes
    #: and duration_hours; without any, the recording runs until stop_recording. (hours)
    duration_hours: NotRequired[float]
    #: The container. Default: the configured recording.format (mp4 unless changed).
    format: NotRequired[Literal["mp4", "mkv"]]
    #: Start a new file after this long (on a keyframe). Default: the configured
    #: recording.segment_seconds (1800 unless changed). (seconds)
    segment_seconds: NotRequired[float]


class StartRecordingResult(TypedDict):
    """The result of start_recording."""

    #: The camera, by its device (also when addressed by stream name).
    device: str
    #: Identifies the recording in notifications and in stop_recording.
    session_id: str
    #: The first segment's file name.
    filename: str
    #: Always STARTED: a refused start is an error.
    status: Literal["STARTED"]
    #: When recording started. (ISO 8601 UTC)
    start_time: str
    #: The requested duration; null: until stopped.
    duration: Optional[float]
    #: The container in use.
    format: Literal["mp4", "mkv"]
    #: The segment length in use. (seconds)
    segment_seconds: float


#: The params of stop_recording.
StopRecordingParams = GetCameraStatusParams


class StopRecordingResult(TypedDict):
    """The result of stop_recording."""

    #: The camera, by its device (also when addressed by stream name).
    device: str
    #: The recording that stopped.
    session_id: str
    #: Its first file.
    filename: str
    #: Always STOPPED.
    status: Literal["STOPPED"]
    #: When recording started. (ISO 8601 UTC)
    start_time: str
    #: When it stopped. (ISO 8601 UTC)
    end_time: str
    #: Of video in the files, per ffprobe. (seconds)
    duration: float
    #: Of all its files. (bytes)
    file_size: int
    #: Every file it wrote, in order.
    files: List[str]
    #: Why it stopped: "manual" for stop_recording.
    reason: str


class ListRecordingsParams(TypedDict):
    """The params of list_recordings."""

    #: How many files to return at most (a page).
    limit: NotRequired[int]
    #: How many files to skip: the next page starts at offset + limit.
    offset: NotRequired[int]
    #: Only this camera's files: its device (`/dev/video0`) or stream name (`camera0`); files of
    #: a camera no longer known are found by stream name. An unknown camera lists nothing.
    device: NotRequired[str]
    #: newest or oldest: by modification time; name: alphabetical; largest: by size.
    sort: NotRequired[Literal["newest", "oldest", "name", "largest"]]


class ListRecordingsResult(TypedDict):
    """The result of list_recordings."""

    #: This page of files.
    files: List[FileInfo]
    #: How many files match, over all pages.
    total: int
    #: The limit applied.
    limit: int
    #: The offset applied.
    offset: int


#: The params of list_snapshots.
ListSnapshotsParams = ListRecordingsParams


#: The result of list_snapshots.
ListSnapshotsResult = ListRecordingsResult


class GetRecordingInfoParams(TypedDict):
    """The params of get_recording_info."""

    #: The file name, as the list methods give it.
    filename: str


class GetRecordingInfoResult(TypedDict):
    """The result of get_recording_info."""

    #: The file's name: the argument of the info and delete methods.
    filename: str
    #: The file's size now (a recording in progress grows). (bytes)
    file_size: int
    #: When the file was last written. (ISO 8601 UTC)
    modified_time: str
    #: When the file was created (its birth time; its modification time where the file system
    #: keeps none). (ISO 8601 UTC)
    created_time: str
    #: Of video in the file; null when ffprobe cannot read it.
    duration: Optional[float]
    #: The camera the file came from, by its device; the stream name for a camera no longer
    #: known; null for a name without one.
    device: Optional[str]
    #: Path of the HTTP download on this port: GET it with your credential.
    download_url: str
    #: A recording still being written (it cannot be deleted).
    in_progress: bool
    #: The video codec (h264...); null when unknown.
    codec: Optional[str]
    #: "WxH"; null when unknown.
    resolution: Optional[str]


#: The params of get_snapshot_info.
GetSnapshotInfoParams = GetRecordingInfoParams


class GetSnapshotInfoResult(TypedDict):
    """The result of get_snapshot_info."""

    #: The file's name: the argument of the info and delete methods.
    filename: str
    #: The file's size now (a recording in progress grows). (bytes)
    file_size: int
    #: When the file was last written. (ISO 8601 UTC)
    modified_time: str
    #: When the file was created (its birth time; its modification time where the file system
    #: keeps none). (ISO 8601 UTC)
    created_time: str
    #: The camera the file came from, by its device; the stream name for a camera no longer
    #: known; null for a name without one.
    device: Optional[str]
    #: Path of the HTTP download on this port: GET it with your credential.
    download_url: str
    #: "WxH"; null when the file cannot be read as an image.
    resolution: Optional[str]


#: The params of delete_recording.
DeleteRecordingParams = GetRecordingInfoParams


class DeleteRecordingResult(TypedDict):
    """The result of delete_recording."""

    #: The deleted file.
    filename: str
    #: Always true: a refused delete is an error.
    deleted: Literal[True]
    #: What happened, as a sentence.
    message: str


#: The params of delete_snapshot.
DeleteSnapshotParams = GetRecordingInfoParams


#: The result of delete_snapshot.
DeleteSnapshotResult = DeleteRecordingResult


class GetStorageInfoParams(TypedDict):
    """The params of get_storage_info. No params."""


class GetStorageInfoResultThresholds(TypedDict):
    """The thresholds, from the configuration."""

    #: storage.warn_percent. (percent)
    warn_percent: float
    #: storage.block_percent. (percent)
    block_percent: float
    #: storage.critical_percent. (percent)
    critical_percent: float


class GetStorageInfoResult(TypedDict):
    """The result of get_storage_info."""

    #: The size of the volume holding the recordings directory. (bytes)
    total_space: int
    #: Used on it, by anything. (bytes)
    used_space: int
    #: Free for the service to use (root's reserve excluded). (bytes)
    available_space: int
    #: How full the volume is, as df counts it (root's reserve excluded): what the thresholds
    #: compare. (percent)
    usage_percentage: float
    #: What the recordings take. (bytes)
    recordings_size: int
    #: What the snapshots take. (bytes)
    snapshots_size: int
    #: How many recordings there are.
    recordings_count: int
    #: How many snapshots there are.
    snapshots_count: int
    #: Whether warn_percent (or more) is reached.
    low_space_warning: bool
    #: The highest threshold reached: block refuses new recordings; critical also stops them.
    threshold_status: Literal["ok", "warn", "block", "critical"]
    #: The thresholds, from the configuration.
    thresholds: GetStorageInfoResultThresholds
    #: The retention policy in force.
    retention: RetentionPolicy


class SetRetentionPolicyParams(TypedDict):
    """The params of set_retention_policy."""

    #: age: delete files older than max_age_days; size: the oldest beyond max_size_gb; manual:
    #: nothing.
    policy_type: Literal["age", "size", "manual"]
    #: Whether it runs by itself.
    enabled: bool
    #: The age limit. (days)
    max_age_days: NotRequired[float]
    #: The size limit, recordings and snapshots together; required for a size policy. (GB (10^9
    #: bytes))
    max_size_gb: NotRequired[float]


#: The result of set_retention_policy.
SetRetentionPolicyResult = RetentionPolicy


class CleanupOldFilesParams(TypedDict):
    """The params of cleanup_old_files. No params."""


class CleanupOldFilesResult(TypedDict):
    """The result of cleanup_old_files."""

    #: False when the policy is manual: nothing was looked at.
    cleanup_executed: bool
    #: How many files were deleted.
    files_deleted: int
    #: What they took. (bytes)
    space_freed: int
    #: What happened, as a sentence.
    message: str


class RecordingStatusUpdateNotification(TypedDict):
    """A recording started, rotated to a new file, stopped (reason: manual, duration reached, camera disconnected, storage critical, media server lost, stream ended, service stopping) or failed (reason from ffmpeg, or its directory or file removed while recording)."""

    #: The camera, by its device.
    device: str
    #: ROTATED: a new segment file was started (`filename`).
    status: Literal["STARTED", "ROTATED", "STOPPED", "FAILED"]
    #: The recording.
    session_id: str
    #: STARTED, ROTATED: the new file; STOPPED, FAILED: the first file.
    filename: str
    #: STARTED: the requested duration or null; then the seconds recorded.
    duration: Optional[float]
    #: STOPPED, FAILED: why.
    reason: NotRequired[str]
    #: STOPPED, FAILED: every file it wrote.
    files: NotRequired[List[str]]


class CameraNotFound(RpcError):
    """No camera has that device, stream name or id; get_camera_list lists the cameras."""

    kind = "camera_not_found"
    default_code = -1000


class CameraUnavailable(RpcError):
    """The camera is known but disconnected or in error (`data.status`), or its stream could not be read."""

    kind = "camera_unavailable"
    default_code = -1001


class MediaServerError(RpcError):
    """The media server (MediaMTX) failed or is not answering; the service retries."""

    kind = "media_server_error"
    default_code = -1003


class FileNotFound(RpcError):
    """No file has that name; the list methods list the files."""

    kind = "file_not_found"
    default_code = -1004


class RecordingInProgress(RpcError):
    """The camera is recording already (`data.session_id`), or the file is being recorded."""

    kind = "recording_in_progress"
    default_code = -1006


class NotRecording(RpcError):
    """The camera is not recording: there is nothing to stop."""

    kind = "not_recording"
    default_code = -1007


class StorageLow(RpcError):
    """The recordings disk has reached `storage.block_percent`: new recordings are refused until space is freed."""

    kind = "storage_low"
    default_code = -1008


class StorageCritical(RpcError):
    """The disk is full, or has reached `storage.critical_percent`: recordings are stopped and refused."""

    kind = "storage_critical"
    default_code = -1010


class InvalidFilename(RpcError):
    """The file name is not a plain name with an accepted extension, or a file of that name exists already."""

    kind = "invalid_filename"
    default_code = -1011


class StorageUnavailable(RpcError):
    """A media directory is missing, unreadable or not writable; `data.directory` names its configuration key."""

    kind = "storage_unavailable"
    default_code = -1012


class ApiKeyNotFound(RpcError):
    """No active API key has that id; list_api_keys lists the keys."""

    kind = "api_key_not_found"
    default_code = -1013


class AuthenticationFailed(RpcError):
    """No valid credential: the connection has not authenticated, or the token is invalid, expired or revoked (`data.reason`). Authenticate again."""

    kind = "authentication_failed"
    default_code = -32001


class RateLimited(RpcError):
    """Too many calls on this connection, too many failed authentications from this address, or the server is busy; retry after `data.retry_after_ms` milliseconds."""

    kind = "rate_limited"
    default_code = -32002


class PermissionDenied(RpcError):
    """The credential's role (`data.role`) is below the one the method needs (`data.required_role`)."""

    kind = "permission_denied"
    default_code = -32003


class InvalidRequest(RpcError):
    """The message is not a JSON-RPC 2.0 request, or the batch is empty or larger than `limits.max_batch_requests`."""

    kind = "invalid_request"
    default_code = -32600


class MethodNotFound(RpcError):
    """No method has that name (names are case-sensitive)."""

    kind = "method_not_found"
    default_code = -32601


class InvalidParams(RpcError):
    """A parameter is missing, unknown, of the wrong type or out of its limits; `data.param` names it and `data.reason` says why."""

    kind = "invalid_params"
    default_code = -32602


class InternalError(RpcError):
    """The server failed unexpectedly; `data.correlation_id` finds the failure in its log."""

    kind = "internal_error"
    default_code = -32603


class ParseError(RpcError):
    """The message is not valid JSON."""

    kind = "parse_error"
    default_code = -32700


#: The exception class for each JSON-RPC error code.
ERROR_CLASSES: Dict[int, type[RpcError]] = {
    -1000: CameraNotFound,
    -1001: CameraUnavailable,
    -1003: MediaServerError,
    -1004: FileNotFound,
    -1006: RecordingInProgress,
    -1007: NotRecording,
    -1008: StorageLow,
    -1010: StorageCritical,
    -1011: InvalidFilename,
    -1012: StorageUnavailable,
    -1013: ApiKeyNotFound,
    -32001: AuthenticationFailed,
    -32002: RateLimited,
    -32003: PermissionDenied,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32700: ParseError,
}


#: Every JSON-RPC method of the API, in the contracts' order.
METHODS: tuple[str, ...] = (
    "authenticate",
    "list_api_keys",
    "create_api_key",
    "revoke_api_key",
    "ping",
    "get_server_info",
    "get_status",
    "get_metrics",
    "get_streams",
    "get_camera_list",
    "get_camera_status",
    "take_snapshot",
    "start_recording",
    "stop_recording",
    "list_recordings",
    "list_snapshots",
    "get_recording_info",
    "get_snapshot_info",
    "delete_recording",
    "delete_snapshot",
    "get_storage_info",
    "set_retention_policy",
    "cleanup_old_files",
)

#: The role each method needs ("public": none).
METHOD_ROLES: Dict[str, str] = {
    "authenticate": "public",
    "list_api_keys": "admin",
    "create_api_key": "admin",
    "revoke_api_key": "admin",
    "ping": "viewer",
    "get_server_info": "admin",
    "get_status": "admin",
    "get_metrics": "admin",
    "get_streams": "viewer",
    "get_camera_list": "viewer",
    "get_camera_status": "viewer",
    "take_snapshot": "operator",
    "start_recording": "operator",
    "stop_recording": "operator",
    "list_recordings": "viewer",
    "list_snapshots": "viewer",
    "get_recording_info": "viewer",
    "get_snapshot_info": "viewer",
    "delete_recording": "operator",
    "delete_snapshot": "operator",
    "get_storage_info": "admin",
    "set_retention_policy": "admin",
    "cleanup_old_files": "admin",
}

#: Every server notification, with the type of its params.
NOTIFICATIONS: Dict[str, Any] = {
    "camera_status_update": Camera,
    "recording_status_update": RecordingStatusUpdateNotification,
}


class GeneratedMethods:
    """A typed async method for every API method; `Client` supplies `call`."""

    async def call(
        self, method: str, params: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None
    ) -> Any:
        raise NotImplementedError

    async def authenticate(self, auth_token: str, *, timeout: Optional[float] = None) -> AuthenticateResult:
        """Binds a JWT or an API key to this connection; later calls act with its role.

        The connection keeps the role until the credential expires (a JWT) or is revoked (an API
        key); the next call after that answers -32001. Authenticating again replaces the role; a
        refused credential leaves the connection unauthenticated. Instead of authenticating, any
        call may carry `auth_token` in its params.

        Role: none (may be called before authenticating).

        Args:
            auth_token: A JWT signed with the service secret (`camera-service token`), or an API
                key (`camera-service keys create`).

        Raises:
            AuthenticationFailed (-32001): The token is not a valid JWT of this service or an
                active API key, or it expired (`data.reason` says which).
            RateLimited (-32002): The connection calls faster than its rate limit. Also: This
                address failed to authenticate too often lately; a valid credential is still
                accepted.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"auth_token": auth_token}
        return cast(AuthenticateResult, await self.call("authenticate", params, timeout=timeout))

    async def list_api_keys(self, *, timeout: Optional[float] = None) -> ListApiKeysResult:
        """Lists the API keys, active and revoked, without their secrets.

        Role: admin or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(ListApiKeysResult, await self.call("list_api_keys", params, timeout=timeout))

    async def create_api_key(
        self,
        name: str,
        role: Literal["viewer", "operator", "admin"],
        *,
        timeout: Optional[float] = None,
    ) -> CreateApiKeyResult:
        """Creates an API key and returns it: the only time its secret is shown.

        The key works at once (authenticate, `X-API-Key`, streams); the service keeps only a
        keyed hash of it. Names are unique among active keys.

        Role: admin or above.

        Args:
            name: Who or what the key is for (unique among active keys).
            role: What it may do.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits. Also:
                An active key has that name already, or the name or role is not valid.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"name": name, "role": role}
        return cast(CreateApiKeyResult, await self.call("create_api_key", params, timeout=timeout))

    async def revoke_api_key(self, id: str, *, timeout: Optional[float] = None) -> RevokeApiKeyResult:
        """Revokes an API key: the next call of every connection using it is refused.

        Connections and dashboard sessions signed in with the key end at their next call
        (-32001); the key stays listed with its `revoked_at`.

        Role: admin or above.

        Args:
            id: The key id, as list_api_keys gives it (the 8 hex digits after `csk_`).

        Raises:
            ApiKeyNotFound (-1013): No active key has that id (unknown, or revoked already).
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"id": id}
        return cast(RevokeApiKeyResult, await self.call("revoke_api_key", params, timeout=timeout))

    async def ping(self, *, timeout: Optional[float] = None) -> Literal["pong"]:
        """Checks that the server answers. Returns "pong".

        Role: viewer or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(Literal["pong"], await self.call("ping", params, timeout=timeout))

    async def get_server_info(self, *, timeout: Optional[float] = None) -> GetServerInfoResult:
        """Describes the server: name, version, capabilities, formats, limits and methods.

        Role: admin or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(GetServerInfoResult, await self.call("get_server_info", params, timeout=timeout))

    async def get_status(self, *, timeout: Optional[float] = None) -> GetStatusResult:
        """Overall health with per-component detail, uptime and version.

        The same report as `GET /health/system` on the health port. The overall status is
        unhealthy when a critical component is, degraded when any component is not healthy.

        Role: admin or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(GetStatusResult, await self.call("get_status", params, timeout=timeout))

    async def get_metrics(self, *, timeout: Optional[float] = None) -> GetMetricsResult:
        """Request, connection and process figures since the service started.

        Prometheus has more, by method and outcome, at `GET /metrics` on the health port.

        Role: admin or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(GetMetricsResult, await self.call("get_metrics", params, timeout=timeout))

    async def get_streams(self, *, timeout: Optional[float] = None) -> List[GetStreamsResultItem]:
        """Lists the media server's paths with their state: source, ready, readers and bytes sent.

        Role: viewer or above.

        Raises:
            MediaServerError (-1003): The media server does not answer, or answers with an
                error.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(List[GetStreamsResultItem], await self.call("get_streams", params, timeout=timeout))

    async def get_camera_list(self, *, timeout: Optional[float] = None) -> GetCameraListResult:
        """Lists every known camera, connected or not, with its streams on the host you used.

        Role: viewer or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(GetCameraListResult, await self.call("get_camera_list", params, timeout=timeout))

    async def get_camera_status(self, device: str, *, timeout: Optional[float] = None) -> GetCameraStatusResult:
        """One camera, with its stream's metrics from the media server.

        Role: viewer or above.

        Args:
            device: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the
                id of a declared camera.

        Raises:
            CameraNotFound (-1000): No camera has that device, stream name or id.
            CameraUnavailable (-1001): The camera is disconnected or in error.
            MediaServerError (-1003): The media server does not answer about the camera's
                stream.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"device": device}
        return cast(GetCameraStatusResult, await self.call("get_camera_status", params, timeout=timeout))

    async def take_snapshot(
        self,
        device: str,
        *,
        filename: Optional[str] = None,
        format: Optional[Literal["jpg", "jpeg"]] = None,
        quality: Optional[int] = None,
        overwrite: Optional[bool] = None,
        timeout: Optional[float] = None,
    ) -> TakeSnapshotResult:
        """Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or
        from the device directly (tier 3).

        Requests for the same camera and quality that arrive together share one frame, each
        written to its own file. A file is never half-written: it appears whole under its name.
        Download it from `/files/snapshots/<filename>` with your credential.

        Role: operator or above.

        Args:
            device: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the
                id of a declared camera.
            filename: The name to save the snapshot under: letters, digits, ".", "_" and "-", at
                most 200 characters, ending .jpg or .jpeg. Default:
                `<stream>_<date>_<time>_<random>.<format>`.
            format: The file's extension: snapshots are JPEG, named .jpg or .jpeg. Names the
                file the service makes; with `filename`, it must be the filename's extension.
                Default jpg.
            quality: JPEG quality, from 1 (smallest file) to 100 (best picture). Default 85.
            overwrite: Replace a snapshot of the same name; otherwise that is refused with
                -1011. Default false.

        Raises:
            CameraNotFound (-1000): No camera has that device, stream name or id.
            CameraUnavailable (-1001): The camera is disconnected or in error, or no frame could
                be read from its stream or device.
            MediaServerError (-1003): The media server does not answer about the camera's
                stream.
            StorageCritical (-1010): The disk holding the snapshots is full.
            InvalidFilename (-1011): The filename is not a plain .jpg/.jpeg name, or a snapshot
                of that name exists (and overwrite is false).
            StorageUnavailable (-1012): The snapshots directory is missing, unreadable or not
                writable.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit. Also:
                snapshot.max_concurrent grabs run and snapshot.max_queued wait already: try again in
                a moment.
            PermissionDenied (-32003): The credential's role is below operator.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits. Also:
                format is not the extension of filename.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"device": device}
        if filename is not None:
            params["filename"] = filename
        if format is not None:
            params["format"] = format
        if quality is not None:
            params["quality"] = quality
        if overwrite is not None:
            params["overwrite"] = overwrite
        return cast(TakeSnapshotResult, await self.call("take_snapshot", params, timeout=timeout))

    async def start_recording(
        self,
        device: str,
        *,
        duration: Optional[float] = None,
        duration_seconds: Optional[float] = None,
        duration_minutes: Optional[float] = None,
        duration_hours: Optional[float] = None,
        format: Optional[Literal["mp4", "mkv"]] = None,
        segment_seconds: Optional[float] = None,
        timeout: Optional[float] = None,
    ) -> StartRecordingResult:
        """Starts recording a camera (one recording per camera): until stopped, or for a duration;
        rotated into segments.

        The stream is copied as it is (no re-encoding) into files of `segment_seconds` each,
        named `<stream>_<date>_<time>.<format>` (later segments by their own start time); each
        new segment is announced by a recording_status_update ROTATED. MP4 files are fragmented,
        so a crash leaves them playable. A recording stops by stop_recording, at its duration,
        when the camera is unplugged or when the disk reaches storage.critical_percent (a
        recording_status_update says why).

        Role: operator or above.

        Args:
            device: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the
                id of a declared camera.
            duration: Stop after this long. Give at most one of duration, duration_seconds,
                duration_minutes and duration_hours; without any, the recording runs until
                stop_recording. (seconds)
            duration_seconds: Stop after this long. Give at most one of duration,
                duration_seconds, duration_minutes and duration_hours; without any, the recording
                runs until stop_recording. (seconds)
            duration_minutes: Stop after this long. Give at most one of duration,
                duration_seconds, duration_minutes and duration_hours; without any, the recording
                runs until stop_recording. (minutes)
            duration_hours: Stop after this long. Give at most one of duration,
                duration_seconds, duration_minutes and duration_hours; without any, the recording
                runs until stop_recording. (hours)
            format: The container. Default: the configured recording.format (mp4 unless
                changed).
            segment_seconds: Start a new file after this long (on a keyframe). Default: the
                configured recording.segment_seconds (1800 unless changed). (seconds)

        Raises:
            CameraNotFound (-1000): No camera has that device, stream name or id.
            CameraUnavailable (-1001): The camera is disconnected or in error, or its stream
                does not start.
            MediaServerError (-1003): The media server does not answer about the camera's
                stream.
            RecordingInProgress (-1006): The camera is recording already: `data.session_id` is
                that recording.
            StorageLow (-1008): The recordings disk has reached storage.block_percent.
            StorageCritical (-1010): The recordings disk is full or has reached
                storage.critical_percent.
            StorageUnavailable (-1012): The recordings directory is missing, unreadable or not
                writable.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below operator.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits. Also:
                More than one duration parameter is given, or the duration is under 0.1 seconds or
                over a week.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"device": device}
        if duration is not None:
            params["duration"] = duration
        if duration_seconds is not None:
            params["duration_seconds"] = duration_seconds
        if duration_minutes is not None:
            params["duration_minutes"] = duration_minutes
        if duration_hours is not None:
            params["duration_hours"] = duration_hours
        if format is not None:
            params["format"] = format
        if segment_seconds is not None:
            params["segment_seconds"] = segment_seconds
        return cast(StartRecordingResult, await self.call("start_recording", params, timeout=timeout))

    async def stop_recording(self, device: str, *, timeout: Optional[float] = None) -> StopRecordingResult:
        """Stops a camera's recording, finalises its files and returns what was written, measured
        from the files.

        Role: operator or above.

        Args:
            device: The camera: its device (`/dev/video0`), its stream name (`camera0`), or the
                id of a declared camera.

        Raises:
            CameraNotFound (-1000): No camera has that device, stream name or id.
            FileNotFound (-1004): It stopped, but its current file had been deleted: what was
                written to it is lost.
            NotRecording (-1007): The camera is not recording (or its recording was cancelled
                while it started).
            StorageUnavailable (-1012): It stopped, but the recordings directory had been
                removed: what was written is lost.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below operator.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"device": device}
        return cast(StopRecordingResult, await self.call("stop_recording", params, timeout=timeout))

    async def list_recordings(
        self,
        *,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        device: Optional[str] = None,
        sort: Optional[Literal["newest", "oldest", "name", "largest"]] = None,
        timeout: Optional[float] = None,
    ) -> ListRecordingsResult:
        """Lists recordings, newest first unless sorted otherwise, a page at a time.

        Role: viewer or above.

        Args:
            limit: How many files to return at most (a page). Default 100.
            offset: How many files to skip: the next page starts at offset + limit. Default 0.
            device: Only this camera's files: its device (`/dev/video0`) or stream name
                (`camera0`); files of a camera no longer known are found by stream name. An unknown
                camera lists nothing.
            sort: newest or oldest: by modification time; name: alphabetical; largest: by size.
                Default "newest".

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if offset is not None:
            params["offset"] = offset
        if device is not None:
            params["device"] = device
        if sort is not None:
            params["sort"] = sort
        return cast(ListRecordingsResult, await self.call("list_recordings", params, timeout=timeout))

    async def list_snapshots(
        self,
        *,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        device: Optional[str] = None,
        sort: Optional[Literal["newest", "oldest", "name", "largest"]] = None,
        timeout: Optional[float] = None,
    ) -> ListRecordingsResult:
        """Lists snapshots, newest first unless sorted otherwise, a page at a time.

        Role: viewer or above.

        Args:
            limit: How many files to return at most (a page). Default 100.
            offset: How many files to skip: the next page starts at offset + limit. Default 0.
            device: Only this camera's files: its device (`/dev/video0`) or stream name
                (`camera0`); files of a camera no longer known are found by stream name. An unknown
                camera lists nothing.
            sort: newest or oldest: by modification time; name: alphabetical; largest: by size.
                Default "newest".

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if offset is not None:
            params["offset"] = offset
        if device is not None:
            params["device"] = device
        if sort is not None:
            params["sort"] = sort
        return cast(ListRecordingsResult, await self.call("list_snapshots", params, timeout=timeout))

    async def get_recording_info(self, filename: str, *, timeout: Optional[float] = None) -> GetRecordingInfoResult:
        """A recording's size, duration, codec and resolution (from ffprobe).

        ffprobe runs once per version of a file; asking again about an unchanged file answers
        from memory. A recording in progress is measured as far as it is written.

        Role: viewer or above.

        Args:
            filename: The file name, as the list methods give it.

        Raises:
            FileNotFound (-1004): No file of that name (in this kind: recordings or snapshots).
            InvalidFilename (-1011): The filename is not a plain name with the extension of its
                kind.
            StorageUnavailable (-1012): The recordings directory is missing or unreadable.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit. Also:
                storage.max_concurrent_probes ffprobe runs go on and storage.max_queued_probes wait
                already: try again in a moment.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"filename": filename}
        return cast(GetRecordingInfoResult, await self.call("get_recording_info", params, timeout=timeout))

    async def get_snapshot_info(self, filename: str, *, timeout: Optional[float] = None) -> GetSnapshotInfoResult:
        """A snapshot's size and resolution.

        Role: viewer or above.

        Args:
            filename: The file name, as the list methods give it.

        Raises:
            FileNotFound (-1004): No file of that name (in this kind: recordings or snapshots).
            InvalidFilename (-1011): The filename is not a plain name with the extension of its
                kind.
            StorageUnavailable (-1012): The snapshots directory is missing or unreadable.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit. Also:
                storage.max_concurrent_probes ffprobe runs go on and storage.max_queued_probes wait
                already: try again in a moment.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"filename": filename}
        return cast(GetSnapshotInfoResult, await self.call("get_snapshot_info", params, timeout=timeout))

    async def delete_recording(self, filename: str, *, timeout: Optional[float] = None) -> DeleteRecordingResult:
        """Deletes a recording file; one being written is refused (stop the recording first).

        Role: operator or above.

        Args:
            filename: The file name, as the list methods give it.

        Raises:
            FileNotFound (-1004): No file of that name (in this kind: recordings or snapshots).
            RecordingInProgress (-1006): The file is being recorded: stop_recording first.
            InvalidFilename (-1011): The filename is not a plain name with the extension of its
                kind.
            StorageUnavailable (-1012): The recordings directory is missing, unreadable or
                read-only.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below operator.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"filename": filename}
        return cast(DeleteRecordingResult, await self.call("delete_recording", params, timeout=timeout))

    async def delete_snapshot(self, filename: str, *, timeout: Optional[float] = None) -> DeleteRecordingResult:
        """Deletes a snapshot file.

        Role: operator or above.

        Args:
            filename: The file name, as the list methods give it.

        Raises:
            FileNotFound (-1004): No file of that name (in this kind: recordings or snapshots).
            InvalidFilename (-1011): The filename is not a plain name with the extension of its
                kind.
            StorageUnavailable (-1012): The snapshots directory is missing, unreadable or
                read-only.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below operator.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"filename": filename}
        return cast(DeleteRecordingResult, await self.call("delete_snapshot", params, timeout=timeout))

    async def get_storage_info(self, *, timeout: Optional[float] = None) -> GetStorageInfoResult:
        """How full the volume holding the recordings is, what the media takes, and which threshold
        it has reached.

        Role: admin or above.

        Raises:
            StorageUnavailable (-1012): The recordings directory is missing or unreadable.
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(GetStorageInfoResult, await self.call("get_storage_info", params, timeout=timeout))

    async def set_retention_policy(
        self,
        policy_type: Literal["age", "size", "manual"],
        enabled: bool,
        *,
        max_age_days: Optional[float] = None,
        max_size_gb: Optional[float] = None,
        timeout: Optional[float] = None,
    ) -> RetentionPolicy:
        """Sets what may be deleted automatically (age, size or manual) and whether it runs; stored
        across restarts.

        A limit left out keeps its current value. The stored policy wins over the configuration
        file from now on; a run under the previous policy stops before its next delete.

        Role: admin or above.

        Args:
            policy_type: age: delete files older than max_age_days; size: the oldest beyond
                max_size_gb; manual: nothing.
            enabled: Whether it runs by itself.
            max_age_days: The age limit. (days)
            max_size_gb: The size limit, recordings and snapshots together; required for a size
                policy. (GB (10^9 bytes))

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): A parameter is missing, unknown or outside its limits. Also:
                A size policy is set without max_size_gb.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {"policy_type": policy_type, "enabled": enabled}
        if max_age_days is not None:
            params["max_age_days"] = max_age_days
        if max_size_gb is not None:
            params["max_size_gb"] = max_size_gb
        return cast(RetentionPolicy, await self.call("set_retention_policy", params, timeout=timeout))

    async def cleanup_old_files(self, *, timeout: Optional[float] = None) -> CleanupOldFilesResult:
        """Applies the retention policy now (enabled or not): deletes old files oldest first, never
        one being written.

        Role: admin or above.

        Raises:
            AuthenticationFailed (-32001): The connection has not authenticated, its credential
                expired or was revoked, or an `auth_token` in the params is refused.
            RateLimited (-32002): The connection calls faster than its rate limit.
            PermissionDenied (-32003): The credential's role is below admin.
            InvalidParams (-32602): Any parameter is given: the method takes none.
            InternalError (-32603): The server failed unexpectedly.
        """
        params: Dict[str, Any] = {}
        return cast(CleanupOldFilesResult, await self.call("cleanup_old_files", params, timeout=timeout))
