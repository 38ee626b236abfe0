/** Contracts of the service-level methods: liveness, identity, status and metrics. */
import { z } from 'zod';
import { bytes, count, defineMethod, seconds } from '../rpc/index.js';

const noParams = z.strictObject({});
const healthStatus = z
  .enum(['healthy', 'degraded', 'unhealthy'])
  .describe('healthy; degraded: works in part; unhealthy: a component does not work.');

/** What get_server_info says the service can do: the same in its answers and its examples. */
export const SERVER_CAPABILITIES = [
  'json-rpc-2.0',
  'batch',
  'notifications',
  'jwt',
  'api-keys',
  'hot-plug',
  'snapshots',
  'recordings',
  'segments',
] as const;
/** Recording containers and the snapshot image format. */
export const SUPPORTED_FORMATS = ['mp4', 'mkv', 'jpg'] as const;

export const ping = defineMethod({
  name: 'ping',
  summary: 'Checks that the server answers. Returns "pong".',
  access: 'viewer',
  params: noParams,
  result: z.literal('pong').describe('Always "pong".'),
  errors: {},
  examples: [{ params: {}, result: 'pong' }],
});

export const getServerInfo = defineMethod({
  name: 'get_server_info',
  summary: 'Describes the server: name, version, capabilities, formats, limits and methods.',
  access: 'admin',
  params: noParams,
  result: z.object({
    name: z.string().describe('The product name.'),
    version: z.string().describe("The service's version."),
    api_version: z.string().describe("The API's version: it changes when a method changes."),
    capabilities: z.array(z.string()).describe('Features this server has, e.g. "recordings".'),
    supported_formats: z
      .array(z.string())
      .describe('Formats of recordings (start_recording `format`) and snapshots.'),
    max_cameras: count('How many cameras the service tracks at most (`camera.max_cameras`).'),
    methods: z.array(z.string()).describe('Every method of this server, in alphabetical order.'),
    limits: z
      .object({
        max_message_bytes: bytes(
          'The largest message the server reads; larger ones close the connection (1009).',
        ),
        max_batch_requests: count('The most requests one batch may hold.'),
        max_connections: count('The most WebSocket connections at once.'),
      })
      .describe("The API's limits, from the configuration."),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        name: 'MediaMTX Camera Service',
        version: '0.1.0',
        api_version: '1.0',
        capabilities: [...SERVER_CAPABILITIES],
        supported_formats: [...SUPPORTED_FORMATS],
        max_cameras: 16,
        methods: ['authenticate', 'get_camera_list', 'get_camera_status', 'ping', 'take_snapshot'],
        limits: { max_message_bytes: 65536, max_batch_requests: 50, max_connections: 100 },
      },
    },
  ],
});

export const getStatus = defineMethod({
  name: 'get_status',
  summary: 'Overall health with per-component detail, uptime and version.',
  description:
    'The same report as `GET /health/system` on the health port. The overall status is unhealthy when a critical component is, degraded when any component is not healthy.',
  access: 'admin',
  params: noParams,
  result: z.object({
    status: healthStatus,
    uptime: seconds('Since the service started.'),
    version: z.string().describe("The service's version."),
    components: z
      .record(
        z.string(),
        z.object({
          status: healthStatus,
          critical: z
            .boolean()
            .describe('Whether the service is unhealthy when this component is.'),
          message: z
            .string()
            .optional()
            .describe('What is wrong, as a sentence; absent when healthy.'),
          details: z
            .record(z.string(), z.unknown())
            .optional()
            .describe("The component's own figures."),
        }),
      )
      .describe('Each component by name: websocket, cameras, storage, mediamtx.'),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        status: 'degraded',
        uptime: 86400.5,
        version: '0.1.0',
        components: {
          websocket: {
            status: 'healthy',
            critical: true,
            details: { connections: 2, max_connections: 100 },
          },
          cameras: {
            status: 'degraded',
            critical: true,
            message: '/dev/video2: Could not probe /dev/video2: the device is busy',
            details: { total: 2, connected: 1, disconnected: 0, error: 1 },
          },
          storage: {
            status: 'healthy',
            critical: false,
            details: { usage_percentage: 22.1, threshold_status: 'ok' },
          },
          mediamtx: {
            status: 'healthy',
            critical: true,
            details: { mode: 'managed', breaker: 'closed' },
          },
        },
      },
    },
  ],
});

export const getMetrics = defineMethod({
  name: 'get_metrics',
  summary: 'Request, connection and process figures since the service started.',
  description: 'Prometheus has more, by method and outcome, at `GET /metrics` on the health port.',
  access: 'admin',
  params: noParams,
  result: z.object({
    active_connections: count('WebSocket connections open now.'),
    total_requests: count('JSON-RPC calls handled since the start.'),
    failed_requests: count('Calls answered with an error.'),
    average_response_time: z
      .number()
      .nonnegative()
      .meta({ description: 'Mean time to handle a call.', unit: 'milliseconds' }),
    error_rate: z
      .number()
      .min(0)
      .max(1)
      .describe('failed_requests / total_requests (0 before any).'),
    memory_usage: z
      .object({
        rss_bytes: bytes('Resident set size of the process.'),
        heap_used_bytes: bytes('JavaScript heap in use.'),
        heap_total_bytes: bytes('JavaScript heap reserved.'),
      })
      .describe("The service process's memory (not ffmpeg's or the media server's)."),
    cpu_usage: z
      .object({
        percent: z.number().nonnegative().meta({
          description: 'Of one core, over the last few seconds (above 100 on several cores).',
          unit: 'percent',
        }),
        user_seconds: seconds('CPU time in user mode since the start.'),
        system_seconds: seconds('CPU time in the kernel since the start.'),
      })
      .describe("The service process's CPU use."),
    uptime_seconds: seconds('Since the service started.'),
  }),
  errors: {},
  examples: [
    {
      params: {},
      result: {
        active_connections: 2,
        total_requests: 1520,
        failed_requests: 3,
        average_response_time: 2.16,
        error_rate: 0.002,
        memory_usage: {
          rss_bytes: 87429120,
          heap_used_bytes: 21189640,
          heap_total_bytes: 33415168,
        },
        cpu_usage: { percent: 1.5, user_seconds: 70.5, system_seconds: 9.3 },
        uptime_seconds: 86400.5,
      },
    },
  ],
});

export const systemContracts = [ping, getServerInfo, getStatus, getMetrics] as const;
