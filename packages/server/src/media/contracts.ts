/** Contracts of the media plane's methods. */
import { z } from 'zod';
import { defineMethod } from '../rpc/index.js';

export const streamItem = z.object({
  name: z.string(),
  /** What feeds the path (e.g. rtspSession for a publisher, rtspSource when pulled); null when nothing does. */
  source: z.string().nullable(),
  ready: z.boolean(),
  /** Readers attached now. */
  readers: z.number().int(),
  bytes_sent: z.number().int(),
});

export const getStreams = defineMethod({
  name: 'get_streams',
  summary:
    "Lists the media server's paths with their state: source, ready, readers and bytes sent.",
  access: 'viewer',
  params: z.strictObject({}),
  result: z.array(streamItem),
});

export const mediaContracts = [getStreams] as const;
