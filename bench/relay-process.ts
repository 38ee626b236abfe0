/**
 * The relay benchmark's processes, seen from the orchestrator: the relay itself
 * (relay-server.js), the ffmpeg that encodes the test clip once, and the ffmpeg
 * publishers that stream it (stream copy, so they cost little CPU). Every process is
 * tracked (children.ts), so that nothing outlives the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Tail, hasExited, terminate, track } from './children.js';
import type { RelayListening, RelayServerLine, RelayServerStats } from './relay-protocol.js';

export interface RelayHandle {
  pid: number;
  rtspPort: number;
  apiPort: number;
  /** The last `stats` line it printed, if any. */
  latest(): RelayServerStats | null;
  /** Its recent `stats` lines, oldest first (the last STATS_KEPT). */
  history(): readonly RelayServerStats[];
  /** SIGTERM (it prints its last stats line), SIGKILL if it does not exit in time. */
  stop(): Promise<RelayServerStats | null>;
  /** What it wrote on stderr, for error messages. */
  stderr(): string;
}

/** relay-server.ts gives relay.stop() 3 s; allow a little more before SIGKILL. */
const RELAY_STOP_GRACE_MS = 5000;
/** Two a second: ten minutes of them. */
const STATS_KEPT = 1200;

export async function startRelay(script: string, startTimeoutMs: number): Promise<RelayHandle> {
  const child = spawn(process.execPath, [script], {
    // stdin stays an open pipe: the relay stops when it closes, i.e. if this process dies.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  const stderr = new Tail();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  let latest: RelayServerStats | null = null;
  const history: RelayServerStats[] = [];
  let onListening: ((line: RelayListening) => void) | undefined;
  // Read to the end, not just the first line: a pipe nobody drains would block it.
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: RelayServerLine;
    try {
      line = JSON.parse(text) as RelayServerLine;
    } catch {
      stderr.push(`(stdout) ${text}\n`);
      return;
    }
    if (line.kind === 'stats') {
      latest = line;
      history.push(line);
      if (history.length > STATS_KEPT) history.shift();
    } else if (line.kind === 'listening') onListening?.(line);
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  let listening: RelayListening;
  try {
    listening = await new Promise<RelayListening>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the relay did not start within ${startTimeoutMs} ms`)),
        startTimeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the relay exited before listening (code ${code}, signal ${signal})`));
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`the relay could not be started: ${error.message}`));
      });
      onListening = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });
  } catch (error) {
    await terminate(child, 1000);
    throw new Error(`${(error as Error).message}: ${stderr.toString() || '(no output)'}`);
  }
  return {
    pid: listening.pid,
    rtspPort: listening.rtspPort,
    apiPort: listening.apiPort,
    latest: () => latest,
    history: () => history,
    stderr: () => stderr.toString(),
    async stop() {
      await terminate(child, RELAY_STOP_GRACE_MS);
      // Its last line may still be in the pipe when it exits; 'close' means all is read.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
      return latest;
    },
  };
}

/** Runs a tool to completion within `timeoutMs`; resolves with its stdout. */
export function runTool(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    const stdout = new Tail(100_000);
    const stderr = new Tail();
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not finish within ${timeoutMs} ms; killed it`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout.toString());
      else
        reject(
          new Error(
            `${command} failed (exit ${code ?? signal}): ${stderr.toString() || '(no output)'}`,
          ),
        );
    });
  });
}

/** What the test clip is; the same for every publisher. */
export interface ClipSpec {
  width: number;
  height: number;
  fps: number;
  gop: number;
  bitrate: string;
  seconds: number;
}

export interface ClipInfo extends ClipSpec {
  /** What ffprobe measured over the file (container overhead included), bit/s. */
  measuredBitsPerSecond: number | null;
  encodeSeconds: number;
}

/** Encodes the clip once (a few seconds of CPU at most: x264 ultrafast at 640x480). */
export async function encodeClip(
  file: string,
  spec: ClipSpec,
  timeoutMs: number,
): Promise<ClipInfo> {
  const started = Date.now();
  await runTool(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`],
      ...['-t', String(spec.seconds), '-pix_fmt', 'yuv420p'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
      ...['-g', String(spec.gop), '-b:v', spec.bitrate, '-maxrate', spec.bitrate],
      ...['-bufsize', '1M', file],
    ],
    timeoutMs,
  );
  const encodeSeconds = (Date.now() - started) / 1000;
  let measuredBitsPerSecond: number | null = null;
  try {
    const probe = await runTool(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'json', file],
      timeoutMs,
    );
    const value = Number(
      (JSON.parse(probe) as { format?: { bit_rate?: string } }).format?.bit_rate,
    );
    if (Number.isFinite(value) && value > 0) measuredBitsPerSecond = value;
  } catch {
    // Only for the report: a clip ffprobe cannot read is caught by the publishers.
  }
  return { ...spec, measuredBitsPerSecond, encodeSeconds };
}

export interface Publisher {
  path: string;
  child: ChildProcess;
  stderr: Tail;
}

/** ffmpeg streaming the clip in a loop at its own pace (-re), without re-encoding. */
export function startPublisher(clip: string, rtspPort: number, path: string): Publisher {
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...['-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy'],
      ...['-f', 'rtsp', '-rtsp_transport', 'tcp', `rtsp://127.0.0.1:${rtspPort}/${path}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(child);
  const stderr = new Tail();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  // Reported by whoever waits on it; without a listener a spawn error would throw.
  child.on('error', (error) => stderr.push(`could not start ffmpeg: ${error.message}\n`));
  return { path, child, stderr };
}

/** The first publisher that has exited, as an error, or null when all still run. */
export function publisherFailure(publishers: readonly Publisher[]): Error | null {
  const dead = publishers.find((p) => hasExited(p.child) || p.child.pid === undefined);
  if (!dead) return null;
  const { exitCode, signalCode } = dead.child;
  return new Error(
    `the ffmpeg publisher of ${dead.path} exited (${exitCode ?? signalCode ?? 'not started'}): ` +
      `${dead.stderr.toString() || '(no output)'}`,
  );
}

/**
 * Polls the relay's control API until every path is ready (its first keyframe is in),
 * failing early when a publisher dies.
 */
export async function waitForPaths(
  apiPort: number,
  publishers: readonly Publisher[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new Set(publishers.map((p) => p.path));
  let ready = new Set<string>();
  while (Date.now() < deadline) {
    const failure = publisherFailure(publishers);
    if (failure) throw failure;
    try {
      const response = await fetch(`http://127.0.0.1:${apiPort}/v3/paths/list?itemsPerPage=1000`, {
        signal: AbortSignal.timeout(2000),
      });
      const body = (await response.json()) as { items?: { name?: string; ready?: boolean }[] };
      ready = new Set((body.items ?? []).filter((i) => i.ready === true).map((i) => i.name ?? ''));
      if ([...wanted].every((name) => ready.has(name))) return;
    } catch {
      // Not answering yet counts as not ready; the deadline bounds the loop.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const missing = [...wanted].filter((name) => !ready.has(name));
  throw new Error(
    `${missing.length} of ${wanted.size} paths were not ready within ${timeoutMs} ms ` +
      `(${missing.slice(0, 5).join(', ')})`,
  );
}

export async function stopPublishers(publishers: readonly Publisher[]): Promise<void> {
  await Promise.all(publishers.map((p) => terminate(p.child, 2000)));
}
