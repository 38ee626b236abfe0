// Generated from the server's method contracts by `npm run gen:api`. Do not edit.
/**
 * The API's methods as typed calls. CameraServiceClient extends this class; `call`
 * (implemented by the client) sends the JSON-RPC request.
 */
import type { ErrorKind } from '../errors.js';
import { Emitter } from '../emitter.js';
import type * as Api from './api.js';

/** Options of one call. */
export interface CallOptions {
  /** This call's timeout (default: the client's requestTimeoutMs). */
  timeoutMs?: number;
}

/** Every error kind each method can raise (RpcError.kind), from its contract. */
export const METHOD_ERRORS = {
  authenticate: ['authentication_failed', 'internal_error', 'invalid_params', 'rate_limited'],
  list_api_keys: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  create_api_key: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  revoke_api_key: ['api_key_not_found', 'authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  ping: ['authentication_failed', 'internal_error', 'invalid_params', 'rate_limited'],
  get_server_info: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  get_status: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  get_metrics: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  get_streams: ['authentication_failed', 'internal_error', 'invalid_params', 'media_server_error', 'rate_limited'],
  get_camera_list: ['authentication_failed', 'internal_error', 'invalid_params', 'rate_limited'],
  get_camera_status: ['authentication_failed', 'camera_not_found', 'camera_unavailable', 'internal_error', 'invalid_params', 'media_server_error', 'rate_limited'],
  take_snapshot: ['authentication_failed', 'camera_not_found', 'camera_unavailable', 'internal_error', 'invalid_filename', 'invalid_params', 'media_server_error', 'permission_denied', 'rate_limited', 'storage_critical', 'storage_unavailable'],
  start_recording: ['authentication_failed', 'camera_not_found', 'camera_unavailable', 'internal_error', 'invalid_params', 'media_server_error', 'permission_denied', 'rate_limited', 'recording_in_progress', 'storage_critical', 'storage_low', 'storage_unavailable'],
  stop_recording: ['authentication_failed', 'camera_not_found', 'file_not_found', 'internal_error', 'invalid_params', 'not_recording', 'permission_denied', 'rate_limited', 'storage_unavailable'],
  list_recordings: ['authentication_failed', 'internal_error', 'invalid_params', 'rate_limited'],
  list_snapshots: ['authentication_failed', 'internal_error', 'invalid_params', 'rate_limited'],
  get_recording_info: ['authentication_failed', 'file_not_found', 'internal_error', 'invalid_filename', 'invalid_params', 'rate_limited', 'storage_unavailable'],
  get_snapshot_info: ['authentication_failed', 'file_not_found', 'internal_error', 'invalid_filename', 'invalid_params', 'rate_limited', 'storage_unavailable'],
  delete_recording: ['authentication_failed', 'file_not_found', 'internal_error', 'invalid_filename', 'invalid_params', 'permission_denied', 'rate_limited', 'recording_in_progress', 'storage_unavailable'],
  delete_snapshot: ['authentication_failed', 'file_not_found', 'internal_error', 'invalid_filename', 'invalid_params', 'permission_denied', 'rate_limited', 'storage_unavailable'],
  get_storage_info: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited', 'storage_unavailable'],
  set_retention_policy: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
  cleanup_old_files: ['authentication_failed', 'internal_error', 'invalid_params', 'permission_denied', 'rate_limited'],
} as const satisfies Record<Api.MethodName, readonly ErrorKind[]>;

/** The error kinds a method can raise, as a type: `MethodErrorKind<'take_snapshot'>`. */
export type MethodErrorKind<M extends Api.MethodName> = (typeof METHOD_ERRORS)[M][number];

/** Every method, by its SDK name. */
export const SDK_METHODS = {
  authenticate: 'authenticate',
  list_api_keys: 'listApiKeys',
  create_api_key: 'createApiKey',
  revoke_api_key: 'revokeApiKey',
  ping: 'ping',
  get_server_info: 'getServerInfo',
  get_status: 'getStatus',
  get_metrics: 'getMetrics',
  get_streams: 'getStreams',
  get_camera_list: 'getCameraList',
  get_camera_status: 'getCameraStatus',
  take_snapshot: 'takeSnapshot',
  start_recording: 'startRecording',
  stop_recording: 'stopRecording',
  list_recordings: 'listRecordings',
  list_snapshots: 'listSnapshots',
  get_recording_info: 'getRecordingInfo',
  get_snapshot_info: 'getSnapshotInfo',
  delete_recording: 'deleteRecording',
  delete_snapshot: 'deleteSnapshot',
  get_storage_info: 'getStorageInfo',
  set_retention_policy: 'setRetentionPolicy',
  cleanup_old_files: 'cleanupOldFiles',
} as const satisfies Record<Api.MethodName, string>;

export abstract class GeneratedMethods<
  Events extends Record<string, unknown[]>,
> extends Emitter<Events> {
  /** Calls a method by its API name; the typed methods below call it. */
  abstract call<M extends Api.MethodName>(
    method: M,
    params?: Api.Methods[M]['params'],
    options?: CallOptions,
  ): Promise<Api.Methods[M]['result']>;

  /**
   * Binds a JWT or an API key to this connection; later calls act with its role. Role: public. `authenticate`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, rate_limited; ConnectionError; TimeoutError.
   */
  authenticate(params: Api.AuthenticateParams, options?: CallOptions): Promise<Api.AuthenticateResult> {
    return this.call('authenticate', params, options);
  }

  /**
   * Lists the API keys, active and revoked, without their secrets. Role: admin. `list_api_keys`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  listApiKeys(options?: CallOptions): Promise<Api.ListApiKeysResult> {
    return this.call('list_api_keys', {}, options);
  }

  /**
   * Creates an API key and returns it: the only time its secret is shown. Role: admin. `create_api_key`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  createApiKey(params: Api.CreateApiKeyParams, options?: CallOptions): Promise<Api.CreateApiKeyResult> {
    return this.call('create_api_key', params, options);
  }

  /**
   * Revokes an API key: the next call of every connection using it is refused. Role: admin. `revoke_api_key`.
   * @throws RpcError of kind api_key_not_found, authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  revokeApiKey(params: Api.RevokeApiKeyParams, options?: CallOptions): Promise<Api.RevokeApiKeyResult> {
    return this.call('revoke_api_key', params, options);
  }

  /**
   * Checks that the server answers. Returns "pong". Role: viewer. `ping`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, rate_limited; ConnectionError; TimeoutError.
   */
  ping(options?: CallOptions): Promise<Api.PingResult> {
    return this.call('ping', {}, options);
  }

  /**
   * Describes the server: name, version, capabilities, formats, limits and methods. Role: admin. `get_server_info`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  getServerInfo(options?: CallOptions): Promise<Api.GetServerInfoResult> {
    return this.call('get_server_info', {}, options);
  }

  /**
   * Overall health with per-component detail, uptime and version. Role: admin. `get_status`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  getStatus(options?: CallOptions): Promise<Api.GetStatusResult> {
    return this.call('get_status', {}, options);
  }

  /**
   * Request, connection and process figures since the service started. Role: admin. `get_metrics`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  getMetrics(options?: CallOptions): Promise<Api.GetMetricsResult> {
    return this.call('get_metrics', {}, options);
  }

  /**
   * Lists the media server's paths with their state: source, ready, readers and bytes sent. Role: viewer. `get_streams`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, media_server_error, rate_limited; ConnectionError; TimeoutError.
   */
  getStreams(options?: CallOptions): Promise<Api.GetStreamsResult> {
    return this.call('get_streams', {}, options);
  }

  /**
   * Lists every known camera, connected or not, with its streams on the host you used. Role: viewer. `get_camera_list`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, rate_limited; ConnectionError; TimeoutError.
   */
  getCameraList(options?: CallOptions): Promise<Api.GetCameraListResult> {
    return this.call('get_camera_list', {}, options);
  }

  /**
   * One camera, with its stream's metrics from the media server. Role: viewer. `get_camera_status`.
   * @throws RpcError of kind authentication_failed, camera_not_found, camera_unavailable, internal_error, invalid_params, media_server_error, rate_limited; ConnectionError; TimeoutError.
   */
  getCameraStatus(params: Api.GetCameraStatusParams, options?: CallOptions): Promise<Api.GetCameraStatusResult> {
    return this.call('get_camera_status', params, options);
  }

  /**
   * Takes a JPEG of a camera: from its running stream (tier 1), by starting it (tier 2), or from the device directly (tier 3). Role: operator. `take_snapshot`.
   * @throws RpcError of kind authentication_failed, camera_not_found, camera_unavailable, internal_error, invalid_filename, invalid_params, media_server_error, permission_denied, rate_limited, storage_critical, storage_unavailable; ConnectionError; TimeoutError.
   */
  takeSnapshot(params: Api.TakeSnapshotParams, options?: CallOptions): Promise<Api.TakeSnapshotResult> {
    return this.call('take_snapshot', params, options);
  }

  /**
   * Starts recording a camera (one recording per camera): until stopped, or for a duration; rotated into segments. Role: operator. `start_recording`.
   * @throws RpcError of kind authentication_failed, camera_not_found, camera_unavailable, internal_error, invalid_params, media_server_error, permission_denied, rate_limited, recording_in_progress, storage_critical, storage_low, storage_unavailable; ConnectionError; TimeoutError.
   */
  startRecording(params: Api.StartRecordingParams, options?: CallOptions): Promise<Api.StartRecordingResult> {
    return this.call('start_recording', params, options);
  }

  /**
   * Stops a camera's recording, finalises its files and returns what was written, measured from the files. Role: operator. `stop_recording`.
   * @throws RpcError of kind authentication_failed, camera_not_found, file_not_found, internal_error, invalid_params, not_recording, permission_denied, rate_limited, storage_unavailable; ConnectionError; TimeoutError.
   */
  stopRecording(params: Api.StopRecordingParams, options?: CallOptions): Promise<Api.StopRecordingResult> {
    return this.call('stop_recording', params, options);
  }

  /**
   * Lists recordings, newest first unless sorted otherwise, a page at a time. Role: viewer. `list_recordings`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, rate_limited; ConnectionError; TimeoutError.
   */
  listRecordings(params: Api.ListRecordingsParams = {}, options?: CallOptions): Promise<Api.ListRecordingsResult> {
    return this.call('list_recordings', params, options);
  }

  /**
   * Lists snapshots, newest first unless sorted otherwise, a page at a time. Role: viewer. `list_snapshots`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, rate_limited; ConnectionError; TimeoutError.
   */
  listSnapshots(params: Api.ListSnapshotsParams = {}, options?: CallOptions): Promise<Api.ListSnapshotsResult> {
    return this.call('list_snapshots', params, options);
  }

  /**
   * A recording's size, duration, codec and resolution (from ffprobe). Role: viewer. `get_recording_info`.
   * @throws RpcError of kind authentication_failed, file_not_found, internal_error, invalid_filename, invalid_params, rate_limited, storage_unavailable; ConnectionError; TimeoutError.
   */
  getRecordingInfo(params: Api.GetRecordingInfoParams, options?: CallOptions): Promise<Api.GetRecordingInfoResult> {
    return this.call('get_recording_info', params, options);
  }

  /**
   * A snapshot's size and resolution. Role: viewer. `get_snapshot_info`.
   * @throws RpcError of kind authentication_failed, file_not_found, internal_error, invalid_filename, invalid_params, rate_limited, storage_unavailable; ConnectionError; TimeoutError.
   */
  getSnapshotInfo(params: Api.GetSnapshotInfoParams, options?: CallOptions): Promise<Api.GetSnapshotInfoResult> {
    return this.call('get_snapshot_info', params, options);
  }

  /**
   * Deletes a recording file; one being written is refused (stop the recording first). Role: operator. `delete_recording`.
   * @throws RpcError of kind authentication_failed, file_not_found, internal_error, invalid_filename, invalid_params, permission_denied, rate_limited, recording_in_progress, storage_unavailable; ConnectionError; TimeoutError.
   */
  deleteRecording(params: Api.DeleteRecordingParams, options?: CallOptions): Promise<Api.DeleteRecordingResult> {
    return this.call('delete_recording', params, options);
  }

  /**
   * Deletes a snapshot file. Role: operator. `delete_snapshot`.
   * @throws RpcError of kind authentication_failed, file_not_found, internal_error, invalid_filename, invalid_params, permission_denied, rate_limited, storage_unavailable; ConnectionError; TimeoutError.
   */
  deleteSnapshot(params: Api.DeleteSnapshotParams, options?: CallOptions): Promise<Api.DeleteSnapshotResult> {
    return this.call('delete_snapshot', params, options);
  }

  /**
   * How full the volume holding the recordings is, what the media takes, and which threshold it has reached. Role: admin. `get_storage_info`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited, storage_unavailable; ConnectionError; TimeoutError.
   */
  getStorageInfo(options?: CallOptions): Promise<Api.GetStorageInfoResult> {
    return this.call('get_storage_info', {}, options);
  }

  /**
   * Sets what may be deleted automatically (age, size or manual) and whether it runs; stored across restarts. Role: admin. `set_retention_policy`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  setRetentionPolicy(params: Api.SetRetentionPolicyParams, options?: CallOptions): Promise<Api.SetRetentionPolicyResult> {
    return this.call('set_retention_policy', params, options);
  }

  /**
   * Applies the retention policy now (enabled or not): deletes old files oldest first, never one being written. Role: admin. `cleanup_old_files`.
   * @throws RpcError of kind authentication_failed, internal_error, invalid_params, permission_denied, rate_limited; ConnectionError; TimeoutError.
   */
  cleanupOldFiles(options?: CallOptions): Promise<Api.CleanupOldFilesResult> {
    return this.call('cleanup_old_files', {}, options);
  }
}
