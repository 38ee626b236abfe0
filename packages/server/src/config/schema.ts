/**
 * The configuration schema: one source of truth for the keys (SPEC section 7), their
 * types, validation and defaults. `Config` is derived from it; nothing else declares keys.
 *
 * Defaults are for running from a clone without root: state and media under ./data
 * (relative paths resolve against the working directory). Production installs set
 * absolute paths in their config file.
 */
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/** An IP address, or a CIDR range ("10.0.0.0/8", "fd00::/8"), as proxy-addr reads them. */
function isAddressRange(value: string): boolean {
  if (value.trim() === '' || /^(loopback|linklocal|uniquelocal)$/.test(value)) return false;
  try {
    proxyaddr.compile([value]);
    return true;
  } catch {
    return false;
  }
}

const port = z
  .number({ error: 'expected a port number from 0 to 65535 (0 picks a free port)' })
  .int({ error: 'expected a whole port number from 0 to 65535' })
  .min(0, { error: 'expected a port number from 0 to 65535' })
  .max(65535, { error: 'expected a port number from 0 to 65535' });
const host = z.string({ error: 'expected a host name or IP address' }).min(1);
const percent = z
  .number({ error: 'expected a percentage from 1 to 100' })
  .min(1, { error: 'expected a percentage from 1 to 100' })
  .max(100, { error: 'expected a percentage from 1 to 100' });
const positiveInt = (what: string) =>
  z
    .number({ error: `expected ${what} (a whole number above 0)` })
    .int({ error: `expected ${what} (a whole number above 0)` })
    .min(1, { error: `expected ${what} (a whole number above 0)` });
const positiveSeconds = (what: string) =>
  z
    .number({ error: `expected ${what} in seconds (a number above 0)` })
    .positive({ error: `expected ${what} in seconds (a number above 0)` });
const path = z.string({ error: 'expected a file system path' }).min(1);
const nullablePath = path.nullable();

const tlsSchema = z
  .strictObject({ cert: nullablePath.default(null), key: nullablePath.default(null) })
  .refine((tls) => (tls.cert === null) === (tls.key === null), {
    error: 'set both cert and key to serve TLS, or neither',
  });

const serverSchema = z.strictObject({
  host: host.default('0.0.0.0'),
  port: port.default(8002),
  websocket_path: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, { error: "expected a URL path starting with '/', e.g. /ws" })
    .default('/ws'),
  max_connections: positiveInt('the maximum number of WebSocket connections').default(100),
  max_connections_per_ip: positiveInt('the maximum WebSocket connections from one address').default(
    20,
  ),
  max_message_bytes: z
    .number({ error: 'expected a size in bytes from 1024 to 16777216' })
    .int()
    .min(1024, { error: 'expected a size in bytes from 1024 to 16777216' })
    .max(16 * 1024 * 1024, { error: 'expected a size in bytes from 1024 to 16777216' })
    .default(65536),
  max_batch_requests: positiveInt('the maximum number of requests in one batch').default(50),
  max_inflight_requests: positiveInt('the maximum unanswered requests per connection').default(64),
  /** File downloads served at once; more answer 503 (each holds a 4 MiB read buffer). */
  max_downloads: positiveInt('the number of downloads at once').default(16),
  /** Downloads one client address may hold at once; more answer 429. */
  max_downloads_per_ip: positiveInt('the number of downloads at once from one address').default(4),
  /** A download whose client takes nothing for this long is cut (its slot freed). */
  download_idle_timeout_seconds: positiveSeconds('the download idle limit').default(30),
  /** A connection that has not authenticated within this is closed (1008). */
  auth_timeout_seconds: positiveSeconds('the authentication deadline').default(10),
  /**
   * Connections not yet authenticated that may be open at once; a newcomer beyond it
   * closes the oldest of them, so they never crowd out authenticated clients.
   */
  max_unauthenticated_connections: positiveInt(
    'the number of connections not yet authenticated',
  ).default(50),
  /** TCP connections the API port holds at once (WebSocket, downloads, everything else). */
  max_http_connections: positiveInt('the number of connections on the API port').default(1000),
  /**
   * Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For, -Host and -Proto
   * are believed; from anyone else those headers are ignored.
   */
  trusted_proxies: z
    .array(
      z
        .string({ error: 'expected an IP address or CIDR range' })
        .refine(isAddressRange, { error: 'expected an IP address or CIDR range, e.g. 10.0.0.0/8' }),
      { error: 'expected a list of IP addresses or CIDR ranges, e.g. [127.0.0.1, 10.0.0.0/8]' },
    )
    .default([]),
  max_send_buffer_bytes: positiveInt('the outgoing buffer limit per connection in bytes').default(
    4 * 1024 * 1024,
  ),
  keepalive_interval_seconds: positiveSeconds('the ping interval').default(30),
  shutdown_timeout_seconds: positiveSeconds('the graceful shutdown limit').default(4),
  public_host: host.nullable().default(null),
  /** Where the built dashboard is (packages/web/dist); null: beside the server package. */
  dashboard_dir: path.nullable().default(null),
  /** Dashboard sign-ins kept at once; a new one ends the oldest. */
  max_dashboard_sessions: positiveInt('the number of dashboard sessions').default(1000),
  tls: tlsSchema.prefault({}),
});

const healthSchema = z.strictObject({
  host: host.default('0.0.0.0'),
  port: port.default(8003),
  /** Require admin credentials (Bearer JWT or X-API-Key) on /metrics; /health/* stays open. */
  metrics_auth: z.boolean({ error: 'expected true or false' }).default(false),
});

const authSchema = z.strictObject({
  jwt_secret: z
    .string({ error: 'expected a secret string of at least 32 bytes' })
    .nullable()
    .default(null),
  /**
   * A file holding the secret (its first line), for installs that keep it out of the
   * configuration (the Debian package: /etc/camera-service/jwt-secret, mode 0600).
   */
  jwt_secret_file: nullablePath.default(null),
  jwt_expiry_hours: positiveSeconds('the token lifetime').default(24),
  api_keys_file: path.default('./data/api-keys.json'),
  /** Let anyone watch the streams (RTSP, HLS, WebRTC) without a credential. */
  anonymous_viewing: z.boolean({ error: 'expected true or false' }).default(false),
  failed_attempts: z
    .strictObject({
      limit: positiveInt('the failed authentications allowed per address in a window').default(10),
      window_seconds: positiveSeconds('the failed-authentication window').default(60),
    })
    .prefault({}),
  rate_limit: z
    .strictObject({
      requests_per_second: positiveSeconds('the sustained request rate per connection').default(
        100,
      ),
      burst: positiveInt('the request burst per connection').default(200),
    })
    .prefault({}),
});

const mediamtxSchema = z
  .strictObject({
    mode: z
      .enum(['auto', 'managed', 'external', 'embedded'], {
        error: 'expected one of auto, managed, external, embedded',
      })
      .default('auto'),
    binary: nullablePath.default(null),
    /** Where the service reaches the media server (its API and RTSP). */
    host: host.default('127.0.0.1'),
    api_port: port.default(9997),
    rtsp_port: port.default(8554),
    hls_port: port.default(8888),
    webrtc_port: port.default(8889),
    /**
     * managed and embedded: the address RTSP, HLS and WebRTC listen on for viewers. The
     * control API always stays on loopback.
     */
    listen_host: host.default('0.0.0.0'),
    /** managed: RTSP transports offered to readers (UDP takes rtp_port and rtcp_port). */
    rtsp_transports: z
      .array(z.enum(['udp', 'tcp'], { error: 'expected udp or tcp' }))
      .min(1, { error: 'expected at least one of udp, tcp' })
      .default(['udp', 'tcp']),
    /** managed: RTSP over UDP, RTP on an even port and RTCP on the next (0 and 0: free ones). */
    rtp_port: port.default(8000),
    rtcp_port: port.default(8001),
    /** managed: serve WebRTC; external: whether that MediaMTX does (for the stream URLs). */
    webrtc: z.boolean({ error: 'expected true or false' }).default(true),
    /** managed: the UDP port of WebRTC's media (ICE), MediaMTX's webrtcLocalUDPAddress. */
    webrtc_ice_udp_port: port.default(8189),
    /** external: credentials for a MediaMTX whose API requires them. */
    api_username: z.string().min(1).nullable().default(null),
    api_password: z.string().nullable().default(null),
    api_timeout_seconds: positiveSeconds('the media server API timeout').default(5),
    /**
     * managed and external: the loopback port of the service's stream authorization hook,
     * MediaMTX's authHTTPAddress (http://127.0.0.1:<port>/mediamtx/auth).
     */
    auth_hook_port: port.default(9995),
    /**
     * embedded: the MediaMTX version whose control API the relay imitates (endpoints,
     * fields, reply bodies): "1.18" for v1.18 and later, "1.15" for v1.15 to v1.17. For
     * testing the service against older MediaMTX where none is installed.
     */
    embedded_version: z
      .enum(['1.15', '1.18'], { error: 'expected "1.15" or "1.18"' })
      .default('1.18'),
    /**
     * embedded: give a new reader the GOP since the last keyframe at once. false behaves as
     * MediaMTX does (the reader starts with the next packet and waits for a keyframe).
     */
    embedded_gop_cache: z.boolean({ error: 'expected true or false' }).default(true),
    /** embedded: RTSP connections the relay holds at once. */
    rtsp_max_connections: positiveInt('the number of RTSP connections').default(256),
    /** MediaMTX's readTimeout: an RTSP connection that sends nothing for this long is closed. */
    read_timeout_seconds: positiveSeconds('the RTSP read limit').default(10),
    /** MediaMTX's writeTimeout: a client that takes nothing for this long is closed. */
    write_timeout_seconds: positiveSeconds('the RTSP write limit').default(10),
    /** managed: how long the binary may take to answer its API after a start. */
    start_timeout_seconds: positiveSeconds('the media server start limit').default(15),
    /** A camera path's runOnDemandStartTimeout and runOnDemandCloseAfter. */
    on_demand_start_timeout_seconds: positiveSeconds('the on-demand start limit').default(10),
    on_demand_close_after_seconds: positiveSeconds('the on-demand idle time').default(10),
    health_check_interval_seconds: positiveSeconds('the media server check interval').default(5),
    backoff_initial_seconds: positiveSeconds('the first retry delay').default(0.5),
    backoff_max_seconds: positiveSeconds('the longest retry delay').default(30),
    breaker_failure_threshold: positiveInt('failed checks that open the circuit breaker').default(
      3,
    ),
    breaker_success_threshold: positiveInt(
      'successful checks that close the circuit breaker',
    ).default(2),
    breaker_open_seconds: positiveSeconds('how long the circuit breaker stays open').default(10),
    codec: z
      .strictObject({
        video_profile: z
          .enum(['baseline', 'main', 'high'], { error: 'expected one of baseline, main, high' })
          .default('baseline'),
        video_level: z
          .string({ error: 'expected an H.264 level as a string, e.g. "3.0"' })
          .regex(/^[1-6](\.[0-9])?$/, { error: 'expected an H.264 level such as "3.0" or "4.1"' })
          .default('3.0'),
        pixel_format: z.string().min(1).default('yuv420p'),
        bitrate: z
          .string({ error: 'expected a bitrate such as "600k" or "2M"' })
          .regex(/^[0-9]+(\.[0-9]+)?[kKmM]?$/, {
            error: 'expected a bitrate such as "600k" or "2M"',
          })
          .default('600k'),
        preset: z
          .enum(
            [
              'ultrafast',
              'superfast',
              'veryfast',
              'faster',
              'fast',
              'medium',
              'slow',
              'slower',
              'veryslow',
            ],
            { error: 'expected an x264 preset, e.g. ultrafast' },
          )
          .default('ultrafast'),
        gop: positiveInt('the keyframe interval in frames').nullable().default(null),
        encoder: z
          .enum(['libx264', 'h264_v4l2m2m', 'h264_vaapi'], {
            error: 'expected one of libx264, h264_v4l2m2m, h264_vaapi',
          })
          .default('libx264'),
      })
      .prefault({}),
  })
  .superRefine((m, ctx) => {
    // RTSP over UDP takes an even port for RTP and the next one for RTCP (RFC 3550).
    if (m.rtp_port === 0 && m.rtcp_port !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['rtcp_port'],
        message: 'expected 0 when rtp_port is 0 (both are then picked free)',
      });
    } else if (m.rtp_port !== 0 && m.rtp_port % 2 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['rtp_port'], message: 'expected an even port' });
    } else if (m.rtp_port !== 0 && m.rtcp_port !== m.rtp_port + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['rtcp_port'],
        message: `expected rtp_port + 1 (${m.rtp_port + 1})`,
      });
    }
  });

const resolution = z
  .string()
  .regex(/^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$/, { error: 'expected a size such as "320x240"' });

const cameraSchema = z.strictObject({
  device_dir: path.default('/dev'),
  sysfs_dir: path.default('/sys/class/video4linux'),
  poll_interval: positiveSeconds('the discovery polling interval').default(1.0),
  debounce_ms: z.number().int().min(0, { error: 'expected milliseconds (0 or more)' }).default(500),
  probe_command: path.default('v4l2-ctl'),
  auto_start_streams: z.boolean({ error: 'expected true or false' }).default(true),
  max_cameras: positiveInt('the maximum number of cameras').default(16),
  /**
   * Watch device_dir for filesystem events (inotify) as well as polling it. Off: polling
   * only, for filesystems that give no events (some containers, network mounts).
   */
  hotplug_events: z.boolean({ error: 'expected true or false' }).default(true),
  /** Seconds a probe (v4l2-ctl) may take; it is retried twice. */
  probe_timeout_seconds: positiveSeconds('the probe limit').default(5),
  /** The capture size and rate aimed for when a camera's are not overridden. */
  default_size: resolution.default('640x480'),
  default_fps: positiveInt('frames per second').default(30),
  /** Capture settings per camera, matched by node (/dev/video0) or stable id (/dev/v4l/by-id/...). */
  overrides: z
    .array(
      z.strictObject({
        device: path,
        format: z.string().min(1).optional(),
        size: resolution.optional(),
        fps: positiveInt('frames per second').optional(),
      }),
      { error: 'expected a list of {device, format?, size?, fps?}' },
    )
    .default([]),
});

const cameraId = z.string({ error: 'expected a camera id' }).regex(/^[A-Za-z0-9_-]{1,64}$/, {
  error: 'expected an id of 1 to 64 letters, digits, "_" or "-" (it names the stream path)',
});

const declaredCameraSchema = z.union(
  [
    z.strictObject({
      id: cameraId,
      name: z.string().optional(),
      test_pattern: z.strictObject({
        size: resolution.default('320x240'),
        fps: positiveInt('frames per second').default(10),
        /** Burn the wall-clock time into the picture (needs a font, as Debian's ffmpeg has). */
        clock: z.boolean({ error: 'expected true or false' }).default(true),
        /** Draw the wall-clock milliseconds as blocks a program reads back (cameras/clock-code.ts). */
        clock_code: z.boolean({ error: 'expected true or false' }).optional(),
      }),
    }),
    z.strictObject({
      id: cameraId,
      name: z.string().optional(),
      url: z.string().regex(/^rtsps?:\/\/./, { error: 'expected an rtsp:// or rtsps:// URL' }),
    }),
  ],
  { error: 'expected a camera with an id and either test_pattern {size, fps} or url' },
);

const storageSchema = z
  .strictObject({
    recordings_dir: path.default('./data/recordings'),
    snapshots_dir: path.default('./data/snapshots'),
    warn_percent: percent.default(80),
    block_percent: percent.default(90),
    critical_percent: percent.default(95),
    /** How often free space is checked while recordings run (critical stops them). */
    check_interval_seconds: positiveSeconds('the storage check interval').default(10),
    /** ffprobe runs at once for file info; more wait in line. */
    max_concurrent_probes: positiveInt('the number of ffprobe runs at once').default(4),
    /** Probes that may wait for a turn; more are refused (-32002). */
    max_queued_probes: positiveInt('the number of probes waiting').default(64),
  })
  .refine((s) => s.warn_percent <= s.block_percent && s.block_percent <= s.critical_percent, {
    error: 'expected warn_percent <= block_percent <= critical_percent',
  });

const recordingSchema = z.strictObject({
  format: z.enum(['mp4', 'mkv'], { error: 'expected mp4 or mkv' }).default('mp4'),
  segment_seconds: positiveSeconds('the segment length').default(1800),
});

const snapshotSchema = z.strictObject({
  /** Frame grabs (ffmpeg) at once, across cameras; more wait in line. */
  max_concurrent: positiveInt('the number of snapshot grabs at once').default(4),
  /** Grabs that may wait for a turn; more are refused (-32002). */
  max_queued: positiveInt('the number of snapshot grabs waiting').default(32),
});

const retentionSchema = z.strictObject({
  policy_type: z
    .enum(['age', 'size', 'manual'], { error: 'expected one of age, size, manual' })
    .default('manual'),
  enabled: z.boolean({ error: 'expected true or false' }).default(false),
  max_age_days: positiveSeconds('the maximum age').default(30),
  max_size_gb: z
    .number()
    .positive({ error: 'expected a size in GB above 0' })
    .nullable()
    .default(null),
  /** How often an enabled policy is applied. */
  check_interval_seconds: positiveSeconds('the retention interval').default(3600),
});

const loggingSchema = z.strictObject({
  level: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
      error: 'expected one of trace, debug, info, warn, error, fatal, silent',
    })
    .default('info'),
  /** auto: readable on a terminal in development, JSON otherwise. */
  format: z
    .enum(['auto', 'json', 'pretty'], { error: 'expected one of auto, json, pretty' })
    .default('auto'),
});

const serviceSchema = z.strictObject({
  /** production refuses unsafe defaults (e.g. a generated JWT secret). */
  environment: z
    .enum(['development', 'production'], { error: 'expected development or production' })
    .default('development'),
  state_dir: path.default('./data/state'),
});

export const configSchema = z
  .strictObject({
    service: serviceSchema.prefault({}),
    server: serverSchema.prefault({}),
    health: healthSchema.prefault({}),
    auth: authSchema.prefault({}),
    mediamtx: mediamtxSchema.prefault({}),
    camera: cameraSchema.prefault({}),
    /**
     * Declared sources. Absent (null): none, except that in development with no V4L2
     * device found a test pattern `test0` is served, so a fresh `npm start` shows a camera;
     * `[]` turns that off.
     */
    cameras: z
      .array(declaredCameraSchema, { error: 'expected a list of cameras' })
      .nullable()
      .default(null),
    storage: storageSchema.prefault({}),
    recording: recordingSchema.prefault({}),
    snapshot: snapshotSchema.prefault({}),
    retention: retentionSchema.prefault({}),
    logging: loggingSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    (config.cameras ?? []).forEach((camera, index) => {
      if (seen.has(camera.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cameras', index, 'id'],
          message: `expected a unique id; "${camera.id}" is used twice`,
        });
      }
      seen.add(camera.id);
    });
  });

export type Config = z.output<typeof configSchema>;
export type DeclaredCamera = NonNullable<Config['cameras']>[number];
export type LogLevel = Config['logging']['level'];

/** The configuration with every default, as `npm start` runs it. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

/**
 * Keys that take effect on SIGHUP without a restart. A changed key outside these is
 * reported and applied at the next start.
 */
export const LIVE_KEYS: readonly string[] = [
  'logging.level',
  'server.max_connections',
  'server.max_connections_per_ip',
  'server.max_message_bytes',
  'server.max_batch_requests',
  'server.max_inflight_requests',
  'server.max_send_buffer_bytes',
  'server.max_downloads',
  'server.max_downloads_per_ip',
  'server.download_idle_timeout_seconds',
  'server.auth_timeout_seconds',
  'server.max_unauthenticated_connections',
  'server.max_http_connections',
  'server.trusted_proxies',
  'auth.anonymous_viewing',
  'server.keepalive_interval_seconds',
  'server.shutdown_timeout_seconds',
  'auth.rate_limit',
  'auth.failed_attempts',
  'storage.warn_percent',
  'storage.block_percent',
  'storage.critical_percent',
  'storage.check_interval_seconds',
  'storage.max_concurrent_probes',
  'storage.max_queued_probes',
  'snapshot',
  'retention',
];
