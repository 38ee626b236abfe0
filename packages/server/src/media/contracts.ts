/** Contracts of the media plane's methods. */
import { z } from 'zod';
import { bytes, count, defineMethod } from '../rpc/index.js';

export const streamItem = z.object({
  name: z
    .string()
    .describe("The path name: a camera's `stream_path`, or another path of the media server."),
  source: z
    .string()
    .nullable()
    .describe(
      'What feeds the path, e.g. rtspSession for a publisher, rtspSource when pulled; null when nothing does (an on-demand stream nobody watches).',
    ),
  ready: z.boolean().describe('Whether the stream runs and can be read now.'),
  readers: count('Readers attached now (players, recordings, the snapshot keeper).'),
  bytes_sent: bytes('Sent to readers since the stream started.'),
});

export const getStreams = defineMethod({
  name: 'get_streams',
  summary:
    "Lists the media server's paths with their state: source, ready, readers and bytes sent.",
  access: 'viewer',
  params: z.strictObject({}),
  result: z.array(streamItem).describe('One entry per media server path.'),
  errors: {
    media_server_error: 'The media server does not answer, or answers with an error.',
  },
  examples: [
    {
      params: {},
      result: [
        { name: 'camera0', source: 'rtspSession', ready: true, readers: 2, bytes_sent: 48213504 },
        { name: 'camera2', source: null, ready: false, readers: 0, bytes_sent: 0 },
      ],
    },
  ],
});

export const mediaContracts = [getStreams] as const;
