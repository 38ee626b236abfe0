/** Contracts of the service-level methods: liveness, identity, status and metrics. */
import { z } from 'zod';
import { defineMethod } from '../rpc/index.js';

const noParams = z.strictObject({});
const healthStatus = z.enum(['healthy', 'degraded', 'unhealthy']);

export const ping = defineMethod({
  name: 'ping',
  summary: 'Checks that the server answers. Returns "pong".',
  access: 'viewer',
  params: noParams,
  result: z.literal('pong'),
});

export const getServerInfo = defineMethod({
  name: 'get_server_info',
  summary: 'Describes the server: name, version, capabilities, formats, limits and methods.',
  access: 'admin',
  params: noParams,
  result: z.object({
    name: z.string(),
    version: z.string(),
    api_version: z.string(),
    capabilities: z.array(z.string()),
    supported_formats: z.array(z.string()),
    max_cameras: z.number().int(),
    methods: z.array(z.string()),
    limits: z.object({
      max_message_bytes: z.number().int(),
      max_batch_requests: z.number().int(),
      max_connections: z.number().int(),
    }),
  }),
});

export const getStatus = defineMethod({
  name: 'get_status',
  summary: 'Overall health with per-component detail, uptime and version.',
  access: 'admin',
  params: noParams,
  result: z.object({
    status: healthStatus,
    uptime: z.number().describe('seconds since the service started'),
    version: z.string(),
    components: z.record(
      z.string(),
      z.object({
        status: healthStatus,
        critical: z.boolean(),
        message: z.string().optional(),
        details: z.record(z.string(), z.unknown()).optional(),
      }),
    ),
  }),
});

export const getMetrics = defineMethod({
  name: 'get_metrics',
  summary: 'Request, connection and process figures since the service started.',
  access: 'admin',
  params: noParams,
  result: z.object({
    active_connections: z.number().int(),
    total_requests: z.number().int(),
    failed_requests: z.number().int(),
    average_response_time: z.number().describe('mean handling time in milliseconds'),
    error_rate: z.number().min(0).max(1).describe('failed requests over all requests'),
    memory_usage: z.object({
      rss_bytes: z.number().int(),
      heap_used_bytes: z.number().int(),
      heap_total_bytes: z.number().int(),
    }),
    cpu_usage: z.object({
      percent: z.number().describe('percent of one core over the last few seconds'),
      user_seconds: z.number(),
      system_seconds: z.number(),
    }),
    uptime_seconds: z.number(),
  }),
});

export const systemContracts = [ping, getServerInfo, getStatus, getMetrics] as const;
