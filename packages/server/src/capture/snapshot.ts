/**
 * take_snapshot, in tiers:
 *
 *   1. the stream is ready: one frame from its RTSP URL. The media server starts a new
 *      reader at the last keyframe (the embedded relay's GOP cache; MediaMTX waits for the
 *      next one), and with a short probe (`-analyzeduration 0`) ffmpeg decodes it at once:
 *      about 0.1 s. The picture is at most one GOP (1 s by default) old.
 *   2. the stream is idle (on demand): start it (waitReady), then as tier 1.
 *   3. a V4L2 camera whose stream cannot start: straight from the device, when nothing
 *      else holds it, skipping the first frames while exposure settles.
 *
 * Requests for the same camera (and quality) that arrive while a grab is under way share
 * that grab: one frame, written to each caller's own file. At most snapshot.max_concurrent
 * grabs (ffmpeg) run at once across cameras and snapshot.max_queued wait; more are refused
 * with -32002. Files are written under a temporary name and renamed, so a half-written
 * snapshot is never seen. Each file says in itself which camera took it (a JPEG comment,
 * see files/origin-tag.ts), so it is listed with its camera whatever it is named. A
 * snapshots directory that cannot take the file is found out before the grab (-1012,
 * naming the configuration key).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CameraRecord } from '../cameras/index.js';
import type { Config } from '../config/index.js';
import { ServiceError } from '../errors/index.js';
import {
  Limiter,
  checkDir,
  checkFilename,
  snapshotName,
  storageFault,
  tagJpeg,
} from '../files/index.js';
import type { Logger } from '../logging/index.js';
import { redact, runFfmpeg } from './ffmpeg.js';
import type { GopKeepers } from './gop-keeper.js';
import type { StreamSource } from './stream-source.js';

export type SnapshotTier = 1 | 2 | 3;

export interface SnapshotRequest {
  camera: CameraRecord;
  filename?: string;
  /** The extension of the name made when there is no filename (default jpg). */
  extension?: 'jpg' | 'jpeg';
  /** 1 (smallest) to 100 (best); default 85. */
  quality?: number;
  /** Replace an existing file of that name (default false: -1011). */
  overwrite?: boolean;
  correlationId?: string;
}

export interface SnapshotResult {
  device: string;
  filename: string;
  status: 'SUCCESS';
  timestamp: string;
  file_size: number;
  file_path: string;
  tier: SnapshotTier;
  capture_ms: number;
}

interface Grab {
  frame: Promise<{ jpeg: Buffer; tier: SnapshotTier }>;
}

export interface SnapshotOptions {
  media: StreamSource;
  log: Logger;
  /** storage.snapshots_dir, and the grab limits (snapshot.*, live). */
  config: () => Config;
  /** One grab's limit (default 10 s). */
  grabTimeoutMs?: number;
  /** How long to wait for an idle stream to start (default: the media plane's). */
  startTimeoutMs?: number;
  /**
   * Told each file written, once it is in place; the reply waits for what it returns, so
   * the files catalog lists the file (and its camera) by the time the caller has the reply.
   */
  onWritten?: (filename: string) => unknown;
  /** The light readers holding each active stream's GOP (warm snapshots on any media server). */
  keepers?: GopKeepers;
}

/** JPEG quality 1..100 → ffmpeg's -q:v 31..2 (lower is better). */
export function jpegQscale(quality: number): number {
  return Math.round(31 - (Math.min(100, Math.max(1, quality)) / 100) * 29);
}

/** Frames skipped in a direct grab: a camera that was just opened shows dark frames first. */
const WARMUP_FRAMES = 5;

/** What a fault of the snapshots directory stops. */
const SAVE = 'snapshots cannot be saved';

export class SnapshotService {
  readonly #options: SnapshotOptions;
  readonly #inflight = new Map<string, Grab>();
  readonly #grabs: Limiter;

  constructor(options: SnapshotOptions) {
    this.#options = options;
    this.#grabs = new Limiter({
      limits: () => {
        const snapshot = options.config().snapshot;
        return { concurrent: snapshot.max_concurrent, queued: snapshot.max_queued };
      },
      busy: 'taking other snapshots',
    });
  }

  async take(request: SnapshotRequest): Promise<SnapshotResult> {
    const { camera } = request;
    const started = performance.now();
    const filename = request.filename
      ? checkFilename(request.filename, ['jpg', 'jpeg'])
      : snapshotName(camera.path, new Date(), request.extension ?? 'jpg');
    // Join (or start) the camera's grab before anything is awaited, so requests that
    // arrive together share one frame however fast the grab is.
    const quality = request.quality ?? 85;
    const key = `${camera.device}\0${quality}`;
    let grab = this.#inflight.get(key);
    if (!grab) {
      const frame = this.#grab(camera, quality, request.correlationId);
      grab = { frame };
      this.#inflight.set(key, grab);
      void frame.then(
        () => this.#inflight.delete(key),
        () => this.#inflight.delete(key),
      );
    }
    // Should this request fail its own checks below, the grab it shares is the others':
    // its failure, if any, is theirs to report.
    void grab.frame.catch(() => undefined);
    const dir = this.#options.config().storage.snapshots_dir;
    // A directory that cannot take the file is found out before a frame is written.
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw storageFault(error, 'snapshots', SAVE);
    });
    await checkDir(dir, 'snapshots', true, SAVE);
    const file = join(dir, filename);
    const existing = await stat(file).catch(() => null);
    if (existing?.isDirectory()) throw folderNamed(filename);
    if (existing && !request.overwrite) throw taken(filename);
    const { jpeg: frame, tier } = await grab.frame;
    const jpeg = tagJpeg(frame, { device: camera.device, stream: camera.path });
    const partial = join(dir, `.${filename}.${randomBytes(4).toString('hex')}.part`);
    try {
      await writeFile(partial, jpeg);
      if (request.overwrite) {
        await rename(partial, file);
      } else {
        // link() fails if the name was taken meanwhile (another request for the same name):
        // the check above and the write are one step, and nothing is replaced.
        await link(partial, file).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error;
          throw taken(filename);
        });
        await unlink(partial);
      }
    } catch (error) {
      await unlink(partial).catch(() => undefined);
      // A folder of that name appeared meanwhile (rename(2) will not replace one).
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw folderNamed(filename);
      throw storageFault(error, 'snapshots', SAVE);
    }
    await Promise.resolve(this.#options.onWritten?.(filename)).catch((error: unknown) =>
      this.#options.log.warn(
        { filename, err: (error as Error).message },
        'the snapshot was written but could not be indexed now; the next rescan lists it',
      ),
    );
    const capture_ms = Math.round(performance.now() - started);
    this.#options.log.info(
      {
        device: camera.device,
        filename,
        tier,
        capture_ms,
        bytes: jpeg.length,
        correlation_id: request.correlationId,
      },
      'snapshot taken',
    );
    return {
      device: camera.device,
      filename,
      status: 'SUCCESS',
      timestamp: new Date().toISOString(),
      file_size: jpeg.length,
      file_path: filename,
      tier,
      capture_ms,
    };
  }

  async #grab(
    camera: CameraRecord,
    quality: number,
    correlationId: string | undefined,
  ): Promise<{ jpeg: Buffer; tier: SnapshotTier }> {
    const { media } = this.#options;
    const call = correlationId ? { correlationId } : undefined;
    let tier: SnapshotTier = 1;
    let startError: Error | null = null;
    if (camera.pathCreated) {
      try {
        const state = await media.pathState(camera.path, call);
        if (!state?.ready) {
          tier = 2;
          await media.waitReady(camera.path, call, this.#options.startTimeoutMs);
        }
        const fromGop = await this.#fromKeeper(camera, quality, correlationId);
        if (fromGop) return { jpeg: fromGop, tier };
        return { jpeg: await this.#fromStream(camera, quality, correlationId), tier };
      } catch (error) {
        // Too busy is not a reason to try the device: the caller is told to come back.
        if (isBusy(error)) throw error;
        startError = error as Error;
      }
    }
    if (camera.kind === 'v4l2') {
      try {
        return { jpeg: await this.#fromDevice(camera, quality, correlationId), tier: 3 };
      } catch (error) {
        if (isBusy(error)) throw error;
        const direct = (error as Error).message;
        throw new ServiceError(
          'camera_unavailable',
          `Could not take a snapshot of ${camera.device}: ${startError ? `${redact(startError.message)} ` : ''}Reading the device directly failed too: ${direct}`,
          { device: camera.device },
        );
      }
    }
    throw new ServiceError(
      startError && /media server/i.test(startError.message)
        ? 'media_server_error'
        : 'camera_unavailable',
      `Could not take a snapshot of ${camera.device}: ${startError ? redact(startError.message) : 'it has no stream'}`,
      { device: camera.device },
    );
  }

  /**
   * A frame from the GOP the camera's keeper holds: decoded from stdin, no RTSP session
   * and no wait for a keyframe. Null when there is no keeper, or it holds no GOP in time
   * (the caller then reads the stream itself).
   */
  async #fromKeeper(
    camera: CameraRecord,
    quality: number,
    correlationId?: string,
  ): Promise<Buffer | null> {
    const keeper = this.#options.keepers?.acquire(camera.path);
    if (!keeper) return null;
    const waitMs = (this.#options.grabTimeoutMs ?? 10_000) / 2;
    if (!(await keeper.waitWarm(waitMs))) return null;
    const gop = keeper.annexB();
    if (!gop) return null;
    try {
      return await this.#run(
        `snapshot ${camera.path} (held GOP)`,
        [
          ...['-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0'],
          ...['-frames:v', '1', '-an', '-f', 'image2pipe', '-c:v', 'mjpeg'],
          ...['-q:v', String(jpegQscale(quality)), 'pipe:1'],
        ],
        correlationId,
        gop,
      );
    } catch (error) {
      if (isBusy(error)) throw error;
      this.#options.log.warn(
        { path: camera.path, err: (error as Error).message },
        'the held GOP did not decode; reading the stream instead',
      );
      return null;
    }
  }

  async #fromStream(
    camera: CameraRecord,
    quality: number,
    correlationId?: string,
  ): Promise<Buffer> {
    const url = this.#options.media.readerUrl(camera.path);
    return this.#run(
      `snapshot ${camera.path}`,
      [
        ...['-loglevel', 'error', '-rtsp_transport', 'tcp'],
        // Start decoding with what arrives first (the keyframe): no 5 s of probing.
        ...['-analyzeduration', '0', '-probesize', '32768', '-i', url],
        ...['-frames:v', '1', '-an', '-f', 'image2pipe', '-c:v', 'mjpeg'],
        ...['-q:v', String(jpegQscale(quality)), 'pipe:1'],
      ],
      correlationId,
    );
  }

  async #fromDevice(
    camera: CameraRecord,
    quality: number,
    correlationId?: string,
  ): Promise<Buffer> {
    const mode = camera.mode;
    return this.#run(
      `snapshot ${camera.device} (direct)`,
      [
        ...['-loglevel', 'error', '-f', 'v4l2'],
        ...(mode ? ['-video_size', `${mode.width}x${mode.height}`] : []),
        ...['-i', camera.device],
        ...['-vf', `select=gte(n\\,${WARMUP_FRAMES})`, '-frames:v', '1', '-an'],
        ...['-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(jpegQscale(quality)), 'pipe:1'],
      ],
      correlationId,
    );
  }

  /** One ffmpeg grab, when the limiter gives it a turn (its time limit starts then). */
  #run(name: string, args: string[], correlationId?: string, stdin?: Buffer): Promise<Buffer> {
    return this.#grabs.run(() => this.#ffmpeg(name, args, correlationId, stdin));
  }

  async #ffmpeg(
    name: string,
    args: string[],
    correlationId?: string,
    stdin?: Buffer,
  ): Promise<Buffer> {
    const run = runFfmpeg({
      name,
      args,
      ...(stdin && { stdin }),
      log: this.#options.log,
      captureStdout: true,
      timeoutMs: this.#options.grabTimeoutMs ?? 10_000,
      graceMs: 1000,
      ...(correlationId && { correlationId }),
    });
    const exit = await run.done;
    const jpeg = run.stdout();
    if (exit.code === 0 && jpeg.length > 0) return jpeg;
    const why = exit.timedOut
      ? `no frame within ${Math.round((this.#options.grabTimeoutMs ?? 10_000) / 1000)} s`
      : redact(exit.stderrTail.slice(-2).join(' / ')) ||
        `ffmpeg exited with ${exit.code ?? exit.signal}`;
    throw new Error(`${why}.`);
  }
}

function taken(filename: string): ServiceError {
  return new ServiceError(
    'invalid_filename',
    `A snapshot named ${filename} already exists: choose another name, or pass overwrite: true.`,
    { filename },
  );
}

function folderNamed(filename: string): ServiceError {
  return new ServiceError(
    'invalid_filename',
    `There is a folder named ${filename} in the snapshots directory: choose another name for the snapshot.`,
    { filename },
  );
}

function isBusy(error: unknown): boolean {
  return error instanceof ServiceError && error.kind === 'rate_limited';
}
