/**
 * Waiting for a camera's stream to be ready to read.
 *
 * An on-demand path starts its ffmpeg only when someone reads it. To start it without
 * pulling video, the service sends one RTSP DESCRIBE: the media server starts the command
 * and answers once the stream is ready (or once runOnDemandStartTimeout has passed), then
 * keeps it running for runOnDemandCloseAfter, long enough for the snapshot or recording
 * that asked to attach. The control API then confirms `ready`.
 *
 * When it does not start, the error says why, from the tail of ffmpeg's stderr file that
 * the path's command writes (see command.ts): "No such file or directory", "Device or
 * resource busy"...
 */
import { open, truncate } from 'node:fs/promises';
import net from 'node:net';
import { RtspDecoder, encodeRequest } from '@camera-service/relay';
import type { CallOptions, MediaMtxClient, PathStatus } from './client.js';

export class StreamNotReadyError extends Error {
  readonly path: string;
  /** The last lines ffmpeg wrote, when there were any. */
  readonly stderrTail: string[];

  constructor(path: string, message: string, stderrTail: string[]) {
    super(message);
    this.name = 'StreamNotReadyError';
    this.path = path;
    this.stderrTail = stderrTail;
  }
}

export interface WaitReadyOptions {
  client: MediaMtxClient;
  /** rtsp://host:port of the media server, for the DESCRIBE that starts the path. */
  rtspBase: string;
  name: string;
  timeoutMs: number;
  /** ffmpeg's stderr file for this path, read when it fails. */
  stderrFile?: string;
  call?: CallOptions;
  /** How often the API is asked once DESCRIBE has answered (default 50 ms). */
  pollMs?: number;
}

/** Resolves with the path's state once it is ready; rejects with the reason otherwise. */
export async function waitReady(options: WaitReadyOptions): Promise<PathStatus> {
  const { client, name, call } = options;
  const deadline = performance.now() + options.timeoutMs;
  const first = await client.getPath(name, call);
  if (first?.ready) return first;
  // Only this start's errors should explain this failure (the command appends).
  if (options.stderrFile) await truncate(options.stderrFile).catch(() => undefined);
  const described = await describe(
    `${options.rtspBase}/${name}`,
    Math.max(1, deadline - performance.now()),
  );
  for (;;) {
    const state = await client.getPath(name, call);
    if (state?.ready) return state;
    const left = deadline - performance.now();
    if (left <= 0 || (described.status !== 200 && described.status !== 0)) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 50, left)));
  }
  const tail = options.stderrFile ? await readTail(options.stderrFile) : [];
  const why =
    tail.length > 0
      ? `ffmpeg said: ${tail.slice(-3).join(' / ')}`
      : described.status === 0
        ? `the media server did not answer in time (${described.reason})`
        : `the media server answered ${described.status} ${described.reason}`;
  // A refusal ends the wait early: say so rather than blame the time limit.
  const refused = described.status !== 200 && described.status !== 0;
  throw new StreamNotReadyError(
    name,
    refused
      ? `The stream ${name} could not start: ${why}.`
      : `The stream ${name} did not become ready within ${(options.timeoutMs / 1000).toFixed(1)} s: ${why}.`,
    tail,
  );
}

/**
 * One RTSP DESCRIBE; status 0 when there was no answer (timeout or connection error).
 * The connection is closed right after the answer. Credentials in the URL
 * (`rtsp://user:password@host/path`) are sent as Basic authorization, and left out of
 * the request's URI, as RTSP clients do.
 */
export function describe(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; reason: string }> {
  const parsed = new URL(url);
  const authorization: [string, string][] =
    parsed.username || parsed.password
      ? [
          [
            'Authorization',
            `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`,
          ],
        ]
      : [];
  parsed.username = '';
  parsed.password = '';
  const uri = parsed.toString();
  return new Promise((resolve) => {
    const socket = net.connect(Number(parsed.port || 554), parsed.hostname);
    const decoder = new RtspDecoder();
    const finish = (status: number, reason: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, reason });
    };
    const timer = setTimeout(() => finish(0, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => {
      socket.write(
        encodeRequest('DESCRIBE', uri, [
          ['CSeq', '1'],
          ['Accept', 'application/sdp'],
          ['User-Agent', 'camera-service'],
          ...authorization,
        ]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const item of decoder.push(chunk)) {
          if (item.kind === 'response') finish(item.status, item.reason);
        }
      } catch {
        finish(0, 'an answer that is not RTSP');
      }
    });
    socket.on('error', (error) => finish(0, error.message));
    socket.on('close', () => finish(0, 'the connection closed'));
  });
}

const TAIL_BYTES = 4096;

/** The last non-empty lines of a file (at most its last 4 KiB); [] when it cannot be read. */
export async function readTail(file: string, lines = 10): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer
      .toString('utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .slice(-lines);
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}
