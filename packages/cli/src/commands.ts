/**
 * camera-cli's commands: one or more per API method, each with its usage line, the options
 * it takes, and how it prints its result for people (`--json` prints the method's result
 * as the API reference documents it, or the shape named in docs/clients/cli.md).
 */
import { basename } from 'node:path';
import type { CameraServiceClient, FileKind, Notifications } from '@camera-service/sdk';
import { UsageError } from './exit-codes.js';
import { bytes, keyValues, table, type Output } from './output.js';

export interface Flags {
  output?: string;
  duration?: string;
  detach?: boolean;
  limit?: string;
  offset?: string;
  device?: string;
  sort?: string;
  format?: string;
  quality?: string;
  filename?: string;
  overwrite?: boolean;
  segment?: string;
  'policy-type'?: string;
  enabled?: string;
  'max-age-days'?: string;
  'max-size-gb'?: string;
  count?: string;
}

export interface Context {
  client: () => Promise<CameraServiceClient>;
  out: Output;
  flags: Flags;
  /** Resolves when the user asks to stop (Ctrl-C), for watch and timed recordings. */
  interrupted: Promise<void>;
}

export interface Command {
  /** The words that name it: ['recordings', 'ls']. */
  words: string[];
  /** Its arguments, as the usage line shows them. */
  args: string;
  summary: string;
  /** The options it takes besides the global ones. */
  options: (keyof Flags)[];
  /** Required positional arguments. */
  required: number;
  run(ctx: Context, args: string[]): Promise<void>;
}

/** `30`, `30s`, `5m`, `1h`, `1h30m` → seconds. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$/.exec(
    text.trim(),
  );
  if (!match || text.trim() === '' || !match.slice(1).some(Boolean)) {
    throw new UsageError(`--duration ${text} is not a duration: use e.g. 30s, 5m, 1h or 90.`);
  }
  const [, h, m, s] = match;
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} ${text} is not a whole number.`);
  return Number(text);
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} ${text} is not a number.`);
  return n;
}

function boolean(name: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (/^(true|yes|on|1)$/i.test(text)) return true;
  if (/^(false|no|off|0)$/i.test(text)) return false;
  throw new UsageError(`--${name} ${text} is not true or false.`);
}

function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Downloads a file with a progress bar on a terminal; returns what --json prints. */
async function download(ctx: Context, kind: FileKind, name: string, to: string | undefined) {
  const client = await ctx.client();
  const path = to ?? basename(name);
  const bar = ctx.out.progress(`${name}`);
  const result = await client.downloadFile(kind, name, {
    to: path,
    onProgress: ({ received, total }) => bar.update(received, total, bytes),
  });
  bar.end();
  return { kind, filename: name, path, size: result.size, resumes: result.resumes };
}

function fileCommands(kind: FileKind): Command[] {
  const one = kind === 'recordings' ? 'recording' : 'snapshot';
  return [
    {
      words: [kind, 'ls'],
      args: '',
      summary: `List ${kind}, newest first (--device, --limit, --offset, --sort newest|oldest|name|largest).`,
      options: ['device', 'limit', 'offset', 'sort'],
      required: 0,
      async run(ctx) {
        const client = await ctx.client();
        const params = defined({
          device: ctx.flags.device,
          limit: integer('limit', ctx.flags.limit),
          offset: integer('offset', ctx.flags.offset),
          sort: ctx.flags.sort as 'newest' | undefined,
        });
        const result =
          kind === 'recordings'
            ? await client.listRecordings(params)
            : await client.listSnapshots(params);
        ctx.out.result(result, () => {
          const files = result.files as {
            filename: string;
            file_size: number;
            modified_time: string;
            device: string | null;
            duration?: number;
          }[];
          const rows = files.map((f) => [
            f.filename,
            bytes(f.file_size),
            f.modified_time,
            f.device,
            ...(kind === 'recordings' ? [f.duration === undefined ? null : `${f.duration}s`] : []),
          ]);
          const headers = [
            'NAME',
            'SIZE',
            'MODIFIED',
            'DEVICE',
            ...(kind === 'recordings' ? ['DURATION'] : []),
          ];
          const total = (result as { total?: number }).total;
          return `${table(headers, rows, ctx.out.width)}${total !== undefined ? `\n${files.length} of ${total}` : ''}`;
        });
      },
    },
    {
      words: [kind, 'info'],
      args: 'NAME',
      summary: `Show one ${one}'s details.`,
      options: [],
      required: 1,
      async run(ctx, [name]) {
        const client = await ctx.client();
        const result =
          kind === 'recordings'
            ? await client.getRecordingInfo({ filename: name! })
            : await client.getSnapshotInfo({ filename: name! });
        ctx.out.result(result, () => keyValues(result));
      },
    },
    {
      words: [kind, 'download'],
      args: 'NAME',
      summary: `Download a ${one} (-o FILE; default: its name, here).`,
      options: ['output'],
      required: 1,
      async run(ctx, [name]) {
        const result = await download(ctx, kind, name!, ctx.flags.output);
        ctx.out.result(result, () => `${result.path} (${bytes(result.size)})`);
      },
    },
    {
      words: [kind, 'rm'],
      args: 'NAME',
      summary: `Delete a ${one}.`,
      options: [],
      required: 1,
      async run(ctx, [name]) {
        const client = await ctx.client();
        const result =
          kind === 'recordings'
            ? await client.deleteRecording({ filename: name! })
            : await client.deleteSnapshot({ filename: name! });
        ctx.out.result(result, () => result.message);
      },
    },
  ];
}

function describeNotification(method: string, params: unknown): string {
  const time = new Date().toISOString();
  if (method === 'camera_status_update') {
    const p = params as Notifications['camera_status_update'];
    return `${time}  camera     ${p.device}  ${p.status}${p.name ? `  ${p.name}` : ''}`;
  }
  if (method === 'recording_status_update') {
    const p = params as Notifications['recording_status_update'];
    return `${time}  recording  ${p.device}  ${p.status}  ${p.filename ?? ''}`.trimEnd();
  }
  return `${time}  ${method}  ${JSON.stringify(params)}`;
}

/** A command without arguments that shows one call's result: as keys and values, or JSON. */
function show(
  words: string[],
  summary: string,
  call: (client: CameraServiceClient) => Promise<object>,
): Command {
  return {
    words,
    args: '',
    summary,
    options: [],
    required: 0,
    async run(ctx) {
      const result = await call(await ctx.client());
      ctx.out.result(result, () => keyValues(result));
    },
  };
}

export const COMMANDS: Command[] = [
  {
    words: ['cameras'],
    args: '',
    summary: 'List the cameras with their status and stream URLs.',
    options: [],
    required: 0,
    async run(ctx) {
      const result = await (await ctx.client()).getCameraList();
      ctx.out.result(result, () =>
        table(
          ['DEVICE', 'STATUS', 'NAME', 'RESOLUTION', 'FPS', 'RTSP'],
          result.cameras.map((c) => [
            c.device,
            c.status,
            c.name,
            c.resolution,
            c.fps,
            c.streams.rtsp,
          ]),
          ctx.out.width,
        ),
      );
    },
  },
  {
    words: ['status'],
    args: 'DEV',
    summary: "Show one camera's status (DEV: its device path or id, e.g. /dev/video0).",
    options: [],
    required: 1,
    async run(ctx, [device]) {
      const result = await (await ctx.client()).getCameraStatus({ device: device! });
      ctx.out.result(result, () => keyValues(result));
    },
  },
  {
    words: ['snapshot'],
    args: 'DEV',
    summary:
      'Take a snapshot and download it (-o FILE; --format, --quality, --filename, --overwrite).',
    options: ['output', 'format', 'quality', 'filename', 'overwrite'],
    required: 1,
    async run(ctx, [device]) {
      const client = await ctx.client();
      const taken = await client.takeSnapshot(
        defined({
          device: device!,
          filename: ctx.flags.filename,
          format: ctx.flags.format as 'jpg' | undefined,
          quality: integer('quality', ctx.flags.quality),
          overwrite: ctx.flags.overwrite,
        }),
      );
      const got = await download(ctx, 'snapshots', taken.filename, ctx.flags.output);
      const result = { ...taken, path: got.path, downloaded_bytes: got.size };
      ctx.out.result(result, () => `${got.path} (${bytes(got.size)}, tier ${taken.tier})`);
    },
  },
  {
    words: ['record', 'start'],
    args: 'DEV',
    summary:
      'Start recording (--duration 30s: a timed recording, waited for with a progress bar on a terminal unless --detach; --format mp4|mkv, --segment SECONDS).',
    options: ['duration', 'detach', 'format', 'segment'],
    required: 1,
    async run(ctx, [device]) {
      const client = await ctx.client();
      const duration =
        ctx.flags.duration === undefined ? undefined : parseDuration(ctx.flags.duration);
      // Ends are collected from before the start, so a short recording's end is not missed.
      const ends = new Map<string, Notifications['recording_status_update']>();
      let wake = () => {};
      client.on('recording_status_update', (p) => {
        if (p.status !== 'STOPPED' && p.status !== 'FAILED') return;
        ends.set(p.session_id, p);
        wake();
      });
      const started = await client.startRecording(
        defined({
          device: device!,
          duration,
          format: ctx.flags.format as 'mp4' | undefined,
          segment_seconds: integer('segment', ctx.flags.segment),
        }),
      );
      const ended =
        duration !== undefined && !ctx.flags.detach
          ? new Promise<Notifications['recording_status_update']>((resolve) => {
              wake = () => {
                const end = ends.get(started.session_id);
                if (end) resolve(end);
              };
              wake();
            })
          : null;
      if (!ended || duration === undefined) {
        ctx.out.result(
          started,
          () => `Recording ${started.filename} (session ${started.session_id}).`,
        );
        return;
      }
      const bar = ctx.out.progress(`Recording ${started.filename}`);
      const since = Date.now();
      const tick = setInterval(
        () =>
          bar.update(
            Math.min(duration, Math.round((Date.now() - since) / 1000)),
            duration,
            (n) => `${n}s`,
          ),
        250,
      );
      const end = await Promise.race([ended, ctx.interrupted.then(() => null)]);
      clearInterval(tick);
      bar.end();
      if (end === null) {
        const stopped = await client.stopRecording({ device: started.device });
        ctx.out.result(
          { started, ended: stopped },
          () => `Stopped ${stopped.filename} after ${stopped.duration}s.`,
        );
        return;
      }
      ctx.out.result({ started, ended: end }, () => `Recorded ${end.filename} (${end.status}).`);
    },
  },
  {
    words: ['record', 'stop'],
    args: 'DEV',
    summary: "Stop a camera's recording.",
    options: [],
    required: 1,
    async run(ctx, [device]) {
      const result = await (await ctx.client()).stopRecording({ device: device! });
      ctx.out.result(result, () => `Stopped ${result.filename} after ${result.duration}s.`);
    },
  },
  ...fileCommands('recordings'),
  ...fileCommands('snapshots'),
  show(['storage'], 'Show disk space, file counts and the retention policy.', (c) =>
    c.getStorageInfo(),
  ),
  show(
    ['retention', 'get'],
    'Show the retention policy.',
    async (c) => (await c.getStorageInfo()).retention,
  ),
  {
    words: ['retention', 'set'],
    args: '',
    summary:
      'Set the retention policy (--policy-type age|size|manual, --enabled true|false, --max-age-days N, --max-size-gb N).',
    options: ['policy-type', 'enabled', 'max-age-days', 'max-size-gb'],
    required: 0,
    async run(ctx) {
      const type = ctx.flags['policy-type'];
      if (type === undefined)
        throw new UsageError('retention set needs --policy-type age, size or manual.');
      const result = await (
        await ctx.client()
      ).setRetentionPolicy(
        defined({
          policy_type: type as 'age',
          enabled: boolean('enabled', ctx.flags.enabled) ?? true,
          max_age_days: number('max-age-days', ctx.flags['max-age-days']),
          max_size_gb: number('max-size-gb', ctx.flags['max-size-gb']),
        }),
      );
      ctx.out.result(result, () => keyValues(result));
    },
  },
  {
    words: ['cleanup'],
    args: '',
    summary: 'Apply the retention policy now.',
    options: [],
    required: 0,
    async run(ctx) {
      const result = await (await ctx.client()).cleanupOldFiles();
      ctx.out.result(result, () => result.message);
    },
  },
  show(['metrics'], "Show the service's metrics.", (c) => c.getMetrics()),
  show(['server-info'], "Show the service's version, capabilities and limits.", (c) =>
    c.getServerInfo(),
  ),
  show(['health'], "Show the service's status and its components' health (get_status).", (c) =>
    c.getStatus(),
  ),
  {
    words: ['ping'],
    args: '',
    summary: 'Check the connection (and the credential).',
    options: [],
    required: 0,
    async run(ctx) {
      const result = await (await ctx.client()).ping();
      ctx.out.result(result, () => result);
    },
  },
  {
    words: ['streams'],
    args: '',
    summary: "List the media server's paths with their readers and traffic.",
    options: [],
    required: 0,
    async run(ctx) {
      const result = await (await ctx.client()).getStreams();
      ctx.out.result(result, () => {
        const streams = (
          Array.isArray(result) ? result : ((result as { streams?: unknown[] }).streams ?? [])
        ) as {
          name: string;
          source: string | null;
          ready: boolean;
          readers: number;
          bytes_sent: number;
        }[];
        return table(
          ['NAME', 'READY', 'SOURCE', 'READERS', 'SENT'],
          streams.map((s) => [
            s.name,
            s.ready ? 'yes' : 'no',
            s.source,
            s.readers,
            bytes(s.bytes_sent),
          ]),
          ctx.out.width,
        );
      });
    },
  },
  {
    words: ['watch'],
    args: '',
    summary:
      'Print live notifications (cameras plugged and unplugged, recordings) until Ctrl-C (--count N: stop after N).',
    options: ['count'],
    required: 0,
    async run(ctx) {
      const client = await ctx.client();
      const count = integer('count', ctx.flags.count);
      let seen = 0;
      await new Promise<void>((resolve) => {
        client.on('notification', (method, params) => {
          if (ctx.out.json) ctx.out.line({ method, params });
          else ctx.out.print(describeNotification(method, params));
          seen += 1;
          if (count !== undefined && seen >= count) resolve();
        });
        client.on('reconnecting', ({ attempt, delayMs }) =>
          ctx.out.io.stderr.write(
            `connection lost; reconnecting (attempt ${attempt}, in ${delayMs} ms)\n`,
          ),
        );
        client.on('connected', ({ reconnected }) => {
          if (reconnected) ctx.out.io.stderr.write('reconnected\n');
        });
        // On stderr even with --json: stdout carries only the notifications.
        ctx.out.io.stderr.write('Watching for notifications; Ctrl-C to stop.\n');
        void ctx.interrupted.then(resolve);
      });
    },
  },
  {
    words: ['call'],
    args: 'METHOD [JSON]',
    summary:
      'Call any method with its params as JSON, e.g. call get_camera_status \'{"device":"/dev/video0"}\'.',
    options: [],
    required: 1,
    async run(ctx, [method, json]) {
      let params: unknown;
      if (json !== undefined) {
        try {
          params = JSON.parse(json);
        } catch (error) {
          throw new UsageError(`The params are not JSON: ${(error as Error).message}.`);
        }
      }
      const result = await (await ctx.client()).request(method!, params);
      ctx.out.result(result, () =>
        typeof result === 'object' && result !== null
          ? JSON.stringify(result, null, 2)
          : String(result),
      );
    },
  },
];
