/**
 * Recordings: ffmpeg reads the camera's RTSP stream and copies it (`-c copy`, no
 * re-encoding) through the segment muxer into crash-safe files:
 *
 * - MP4 is fragmented (`frag_keyframe+empty_moov+default_base_moof`, a fragment at least
 *   every second): a killed ffmpeg leaves every finished fragment playable. Matroska is
 *   playable up to its last cluster by nature.
 * - Segments rotate every `segment_seconds` on a keyframe, with no frame lost between
 *   them (one muxer writes them all); each new file is announced (ROTATED).
 * - One recording per camera; a timed one stops by itself (`-t`).
 *
 * Each session has a journal (`<recordings>/.sessions/<id>.json`) listing its files while
 * it runs; a journal found at start-up is a recording a crash left open: its files are
 * checked (and remuxed if ffprobe cannot read them) and reported in the log.
 *
 * While recordings run, free space and their output are checked every
 * storage.check_interval_seconds: critical storage stops them; a recording whose directory
 * or current file is removed (ffmpeg would go on writing into a deleted file, filling the
 * disk with what nobody can read) is stopped and ends FAILED, saying so.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CameraRecord } from '../cameras/index.js';
import type { Config } from '../config/index.js';
import { ServiceError } from '../errors/index.js';
import {
  checkDir,
  faultCause,
  probeDuration,
  probeLimiter,
  recordingName,
  storageFault,
  thresholdStatus,
  volumeUsage,
  type Limiter,
} from '../files/index.js';
import type { Logger } from '../logging/index.js';
import type { StreamSource } from './stream-source.js';
import { redact, runFfmpeg, type FfmpegExit, type FfmpegRun } from './ffmpeg.js';
import { recoverJournals } from './recovery.js';

export type RecordingFormat = 'mp4' | 'mkv';
export type RecordingStatus = 'STARTED' | 'ROTATED' | 'STOPPED' | 'FAILED';
export type StopReason =
  | 'manual'
  | 'duration reached'
  | 'camera disconnected'
  | 'storage critical'
  | 'media server lost'
  | 'stream ended'
  | 'service stopping';

export interface RecordingEvent {
  device: string;
  status: RecordingStatus;
  session_id: string;
  filename: string;
  /** Seconds recorded so far (STARTED: the requested duration, or null). */
  duration: number | null;
  reason?: string;
  files?: string[];
}

export interface StartRequest {
  camera: CameraRecord;
  /** Seconds; null or omitted: until stopped. */
  durationSeconds?: number | null;
  format?: RecordingFormat;
  segmentSeconds?: number;
  correlationId?: string;
}

export interface StartResult {
  device: string;
  session_id: string;
  filename: string;
  status: 'STARTED';
  start_time: string;
  duration: number | null;
  format: RecordingFormat;
  segment_seconds: number;
}

export interface StopResult {
  device: string;
  session_id: string;
  filename: string;
  status: 'STOPPED';
  start_time: string;
  end_time: string;
  /** Seconds of video in the files, per ffprobe. */
  duration: number;
  /** Bytes, all segments. */
  file_size: number;
  files: string[];
  reason: string;
}

interface Session {
  id: string;
  device: string;
  camera: CameraRecord;
  format: RecordingFormat;
  startTime: Date;
  startedAt: number;
  durationSeconds: number | null;
  segmentSeconds: number;
  files: string[];
  run: FfmpegRun;
  stopReason: StopReason | null;
  result: Promise<StopResult>;
  /** The journal's writes, one after the other. */
  journal: Promise<void>;
  /** Set once finished: the journal is gone and must not be written again. */
  finished: boolean;
  /**
   * Files known to have existed, so a missing one was deleted, not never created: seen on
   * disk by the output check, or announced by ffmpeg (when, performance.now()), which
   * opens the file right after saying so.
   */
  seen: Set<string>;
  announced: Map<string, number>;
  /** Its output vanished: why it fails. */
  failure: Vanished | null;
}

/** A recording's output gone while it recorded. */
interface Vanished {
  kind: 'storage_unavailable' | 'file_not_found';
  reason: string;
}

const DIRECTORY_REMOVED: Vanished = {
  kind: 'storage_unavailable',
  reason:
    'the recordings directory (storage.recordings_dir) was removed while recording: the files written are lost',
};

function fileDeleted(file: string): Vanished {
  return {
    kind: 'file_not_found',
    reason: `its file ${file} was deleted while recording: what was written to it is lost`,
  };
}

/** What a fault of the recordings directory stops. */
const SAVE = 'recordings cannot be saved';

/** An announced file is open well within this (ffmpeg logs the name, then opens it). */
const OPEN_GRACE_MS = 500;

/** A recording between start_recording and its ffmpeg running. */
interface Starting {
  id: string;
  /** Why it must not start after all (a stop, an unplug, the service stopping). */
  cancelled: StopReason | null;
  /** Resolves once begin() has finished, either way. */
  done: Promise<void>;
}

/** Seconds since the session started, to a tenth. */
function elapsedSeconds(session: Session): number {
  return Math.round((performance.now() - session.startedAt) / 100) / 10;
}

function stopping(device: string): ServiceError {
  return new ServiceError(
    'camera_unavailable',
    `The service is stopping: the recording of ${device} was not started.`,
    { device },
  );
}

function cancelledStart(device: string, reason: StopReason): ServiceError {
  return new ServiceError(
    'camera_unavailable',
    `The recording of ${device} was cancelled while its stream started (${reason}).`,
    { device, reason },
  );
}

/** The stream could not start: say why, as the camera's or the media server's fault. */
function notStreaming(device: string, error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ServiceError(
    /media server/i.test(message) ? 'media_server_error' : 'camera_unavailable',
    `Could not record ${device}: ${redact(message)}`,
    { device },
  );
}

export interface RecorderOptions {
  /** The camera streams, from the media server. */
  media: StreamSource;
  log: Logger;
  config: () => Config;
  /** How often free space is checked while recording (default: storage.check_interval_seconds). */
  storageCheckMs?: number;
  /** The limiter every ffprobe goes through, shared with file info (default: its own). */
  probes?: Limiter;
}

export interface RecorderEvents {
  status: [RecordingEvent];
}

const EXTENSIONS: Record<RecordingFormat, string> = { mp4: 'mp4', mkv: 'mkv' };
const MUXERS: Record<RecordingFormat, string> = { mp4: 'mp4', mkv: 'matroska' };
const SEGMENT_OPTIONS: Record<RecordingFormat, string> = {
  mp4: 'movflags=+frag_keyframe+empty_moov+default_base_moof:frag_duration=1000000:flush_packets=1',
  mkv: 'cluster_time_limit=1000:flush_packets=1',
};

export class RecordingService extends EventEmitter<RecorderEvents> {
  readonly #options: RecorderOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #starting = new Map<string, Starting>();
  #storageTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #probes: Limiter;

  constructor(options: RecorderOptions) {
    super();
    this.#options = options;
    this.#probes = options.probes ?? probeLimiter(options.config);
  }

  get #dir(): string {
    return this.#options.config().storage.recordings_dir;
  }

  /** The live state of a camera's recording, for the camera object. */
  state(device: string) {
    const session = this.#sessions.get(device);
    if (!session) return { active: false, session_id: null, filename: null, elapsed_seconds: null };
    return {
      active: true,
      session_id: session.id,
      filename: session.files[session.files.length - 1] ?? null,
      elapsed_seconds: elapsedSeconds(session),
    };
  }

  activeCount(): number {
    return this.#sessions.size;
  }

  /** Whether a file belongs to a recording being written (the files module refuses to delete it). */
  isBeingWritten(filename: string): boolean {
    // Only a session's last segment is open: the segment muxer closes each file before it
    // opens the next, so earlier segments of a long recording are finished files.
    for (const session of this.#sessions.values())
      if (session.files[session.files.length - 1] === filename) return true;
    return false;
  }

  /** Starts checking free space while recordings run (storage.check_interval_seconds, live). */
  start(): void {
    this.#stopped = false;
    const next = () => {
      if (this.#stopped) return;
      const ms =
        this.#options.storageCheckMs ??
        this.#options.config().storage.check_interval_seconds * 1000;
      this.#storageTimer = setTimeout(() => {
        void this.#checkStorage().finally(next);
      }, ms);
      this.#storageTimer.unref();
    };
    next();
  }

  async begin(request: StartRequest): Promise<StartResult> {
    const { camera } = request;
    const config = this.#options.config();
    const existing = this.#sessions.get(camera.device);
    const starting = this.#starting.get(camera.device);
    if (existing || starting) {
      const id = existing?.id ?? starting?.id ?? '';
      throw new ServiceError(
        'recording_in_progress',
        `The camera ${camera.device} is already recording (session ${id}): stop it first.`,
        { device: camera.device, session_id: id },
      );
    }
    if (this.#stopped) throw stopping(camera.device);
    if (!camera.pathCreated) {
      throw new ServiceError(
        'camera_unavailable',
        `The camera ${camera.device} has no stream to record.`,
        { device: camera.device },
      );
    }
    // Known from the first moment, so that a stop, an unplug or the service stopping while
    // the stream starts can find this recording and wait for it.
    const id = randomUUID();
    let markStarted!: () => void;
    const entry: Starting = {
      id,
      cancelled: null,
      done: new Promise<void>((resolve) => (markStarted = resolve)),
    };
    this.#starting.set(camera.device, entry);
    try {
      const dir = this.#dir;
      await mkdir(join(dir, '.sessions'), { recursive: true }).catch((error: unknown) => {
        throw storageFault(error, 'recordings', SAVE);
      });
      await checkDir(dir, 'recordings', true, SAVE);
      await this.#refuseWhenFull(dir);
      const format = request.format ?? config.recording.format;
      const segmentSeconds = request.segmentSeconds ?? config.recording.segment_seconds;
      const durationSeconds = request.durationSeconds ?? null;
      // The stream must run before ffmpeg connects: an idle on-demand stream is started.
      try {
        await this.#options.media.waitReady(
          camera.path,
          request.correlationId ? { correlationId: request.correlationId } : undefined,
        );
      } catch (error) {
        throw notStreaming(camera.device, error);
      }
      if (entry.cancelled) throw cancelledStart(camera.device, entry.cancelled);
      const startTime = new Date();
      // Segments share the session's start time and are numbered: names known in advance,
      // sorted by time. A second recording in the same second gets -2, -3... after it.
      const stem = await this.#freeStem(
        dir,
        recordingName(camera.path, startTime, '').slice(0, -1),
        format,
      );
      const first = `${stem}_001.${EXTENSIONS[format]}`;
      const pattern = `${stem}_%03d.${EXTENSIONS[format]}`;
      const args = [
        ...['-loglevel', 'info', '-rtsp_transport', 'tcp'],
        // A stream that stops sending for 10 s ends the recording instead of holding it.
        ...['-timeout', '10000000'],
        ...['-analyzeduration', '0', '-probesize', '32768'],
        ...['-i', this.#options.media.readerUrl(camera.path)],
        ...['-map', '0:v', '-c', 'copy'],
        ...(durationSeconds !== null ? ['-t', durationSeconds.toFixed(3)] : []),
        ...['-f', 'segment', '-segment_time', String(segmentSeconds)],
        ...['-segment_format', MUXERS[format], '-reset_timestamps', '1'],
        ...['-segment_start_number', '1'],
        // Each fragment (MP4) or cluster (Matroska) of at most 1 s reaches the disk when it
        // is complete: without flush_packets the segment's writer holds 32 KB in memory, which
        // a killed ffmpeg takes with it (at 600 kbit/s, the first seconds of every file).
        ...['-segment_format_options', SEGMENT_OPTIONS[format]],
        join(dir, pattern),
      ];
      const run = runFfmpeg({
        name: `recording ${camera.path}`,
        args,
        log: this.#options.log,
        graceMs: 5000,
        tailLines: 30,
        // A timed recording ends by itself on output time; this wall-clock limit ends one
        // whose stream stalls without closing.
        ...(durationSeconds !== null && { timeoutMs: (durationSeconds + 15) * 1000 }),
        ...(request.correlationId && { correlationId: request.correlationId }),
      });
      const session: Session = {
        id,
        device: camera.device,
        camera,
        format,
        startTime,
        startedAt: performance.now(),
        durationSeconds,
        segmentSeconds,
        files: [first],
        run,
        stopReason: null,
        result: Promise.resolve() as unknown as Promise<StopResult>,
        journal: Promise.resolve(),
        finished: false,
        seen: new Set(),
        announced: new Map(),
        failure: null,
      };
      run.on('stderr', (line) => this.#onStderr(session, line));
      session.result = run.done.then((exit) => this.#finish(session, exit));
      session.result.catch((error: unknown) =>
        this.#options.log.error(
          { device: camera.device, session_id: id, err: error as Error },
          'finishing a recording failed',
        ),
      );
      this.#sessions.set(camera.device, session);
      this.#journal(session);
      this.#options.log.info(
        {
          device: camera.device,
          session_id: id,
          filename: first,
          format,
          duration: durationSeconds,
          segment_seconds: segmentSeconds,
        },
        'recording started',
      );
      this.emit('status', {
        device: camera.device,
        status: 'STARTED',
        session_id: id,
        filename: first,
        duration: durationSeconds,
      });
      return {
        device: camera.device,
        session_id: id,
        filename: first,
        status: 'STARTED',
        start_time: startTime.toISOString(),
        duration: durationSeconds,
        format,
        segment_seconds: segmentSeconds,
      };
    } finally {
      this.#starting.delete(camera.device);
      markStarted();
    }
  }

  /**
   * Stops a camera's recording cleanly and measures what it wrote. A recording still
   * starting is cancelled (its start answers why) and this waits for that.
   */
  async end(device: string, reason: StopReason = 'manual'): Promise<StopResult> {
    const starting = this.#starting.get(device);
    if (starting) {
      starting.cancelled ??= reason;
      await starting.done;
    }
    const session = this.#sessions.get(device);
    if (!session) {
      throw new ServiceError(
        'not_recording',
        starting
          ? `The recording of ${device} was cancelled while it started: it is not recording.`
          : `The camera ${device} is not recording: there is nothing to stop (start_recording starts one).`,
        { device },
      );
    }
    session.stopReason ??= reason;
    await session.run.stop();
    const result = await session.result;
    if (session.failure) {
      throw new ServiceError(
        session.failure.kind,
        `The recording of ${device} failed: ${session.failure.reason}.`,
        { device, session_id: session.id, files: result.files },
      );
    }
    return result;
  }

  /** Whether a camera records, or is starting to. */
  recording(device: string): boolean {
    return this.#sessions.has(device) || this.#starting.has(device);
  }

  /** Stops every recording (service shutdown, storage critical). */
  async endAll(reason: StopReason): Promise<void> {
    const devices = new Set([...this.#sessions.keys(), ...this.#starting.keys()]);
    await Promise.all(
      [...devices].map((device) => this.end(device, reason).catch(() => undefined)),
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#storageTimer);
    await this.endAll('service stopping');
  }

  /** A name stem no file of this format has yet: the stem, else stem-2, stem-3... */
  async #freeStem(dir: string, stem: string, format: RecordingFormat): Promise<string> {
    for (let n = 1; ; n += 1) {
      const candidate = n === 1 ? stem : `${stem}-${n}`;
      const taken = await stat(join(dir, `${candidate}_001.${EXTENSIONS[format]}`)).then(
        () => true,
        () => false,
      );
      if (!taken) return candidate;
    }
  }

  /** Reports (and repairs when needed) recordings a crash left open. */
  recover(): Promise<void> {
    return recoverJournals({
      dir: this.#dir,
      log: this.#options.log,
      duration: (file) => this.#duration(file),
    });
  }

  /** A file's duration by ffprobe, waiting for a turn however long the line; null if unreadable. */
  #duration(file: string): Promise<number | null> {
    return this.#probes.run(() => probeDuration(file), { wait: true }).catch(() => null);
  }

  async #refuseWhenFull(dir: string): Promise<void> {
    const config = this.#options.config();
    const usage = await volumeUsage(dir).catch((error: unknown) => {
      throw storageFault(error, 'recordings', SAVE);
    });
    const status = thresholdStatus(usage.usage_percentage, config.storage);
    if (status === 'critical') {
      throw new ServiceError(
        'storage_critical',
        `Storage is critically full (${usage.usage_percentage}% used, limit ${config.storage.critical_percent}%): free space before recording.`,
        { usage_percentage: usage.usage_percentage },
      );
    }
    if (status === 'block') {
      throw new ServiceError(
        'storage_low',
        `Storage is low (${usage.usage_percentage}% used, recordings refused from ${config.storage.block_percent}%): delete old recordings or raise storage.block_percent.`,
        { usage_percentage: usage.usage_percentage },
      );
    }
  }

  async #checkStorage(): Promise<void> {
    if (this.#sessions.size === 0) return;
    await this.#checkOutputs();
    try {
      const config = this.#options.config();
      const usage = await volumeUsage(this.#dir);
      if (thresholdStatus(usage.usage_percentage, config.storage) === 'critical') {
        this.#options.log.error(
          { usage_percentage: usage.usage_percentage },
          'storage critical: stopping every recording',
        );
        await this.endAll('storage critical');
      }
    } catch (error) {
      this.#options.log.warn({ err: (error as Error).message }, 'could not check free space');
    }
  }

  /** Stops (FAILED) each recording whose directory or current file has gone. */
  async #checkOutputs(): Promise<void> {
    const dirGone = await this.#dirGone();
    for (const session of [...this.#sessions.values()]) {
      if (session.failure || session.stopReason) continue;
      const current = session.files[session.files.length - 1];
      let vanished: Vanished | null = dirGone ? DIRECTORY_REMOVED : null;
      if (!vanished && current) {
        const present = await stat(join(this.#dir, current)).then(
          () => true,
          () => false,
        );
        const announced = session.announced.get(current);
        if (present) session.seen.add(current);
        else if (
          session.seen.has(current) ||
          (announced !== undefined && performance.now() - announced > OPEN_GRACE_MS)
        ) {
          vanished = fileDeleted(current);
        }
      }
      if (!vanished) continue;
      session.failure = vanished;
      this.#options.log.error(
        { device: session.device, session_id: session.id, reason: vanished.reason },
        'recording output vanished: stopping the recording',
      );
      void session.run.stop();
    }
  }

  /** Whether the recordings directory is gone (removed, or replaced by something else). */
  async #dirGone(): Promise<boolean> {
    return stat(this.#dir).then(
      (stats) => !stats.isDirectory(),
      (error: unknown) => faultCause(error) === 'missing',
    );
  }

  /** The segment muxer says "Opening '<file>' for writing" for every new segment. */
  #onStderr(session: Session, line: string): void {
    const match = /Opening '([^']+)' for writing/.exec(line);
    if (!match?.[1]) return;
    const file = basename(match[1]);
    if (!session.announced.has(file)) session.announced.set(file, performance.now());
    if (session.files.includes(file)) return;
    session.files.push(file);
    this.#journal(session);
    this.#options.log.info(
      { device: session.device, session_id: session.id, filename: file },
      'recording rotated',
    );
    this.emit('status', {
      device: session.device,
      status: 'ROTATED',
      session_id: session.id,
      filename: file,
      duration: elapsedSeconds(session),
    });
  }

  async #finish(session: Session, exit: FfmpegExit): Promise<StopResult> {
    const endTime = new Date();
    this.#sessions.delete(session.device);
    let reason: string | null = session.stopReason;
    let failed = false;
    if (reason === null) {
      if (exit.timedOut) {
        failed = true;
        reason = 'the stream stalled: no video arrived for too long';
      } else if (exit.code === 0 && session.durationSeconds !== null) {
        // -t counts output time, which starts at the keyframe the stream began with: a
        // clean exit of a timed recording is its duration reached, whatever the clock says.
        reason = 'duration reached';
      } else if (!this.#options.media.reachable()) {
        reason = 'media server lost';
      } else if (exit.code === 0) {
        // The source ended (its camera or publisher went away) and ffmpeg finished the file.
        reason = 'stream ended';
      } else {
        failed = true;
        reason = exit.signal
          ? `ffmpeg was killed (${exit.signal})`
          : redact(
              exit.stderrTail
                .filter(
                  (l) => !/^(Opening|Input|Output|Stream|Press|video:|frame=|size=|\s)/.test(l),
                )
                .slice(-2)
                .join(' / '),
            ) || `ffmpeg exited with status ${exit.code}`;
      }
    }
    const measured = await Promise.all(
      session.files.map(async (file) => {
        const full = join(this.#dir, file);
        const found = await stat(full).catch(() => null);
        const size = found?.size ?? 0;
        const duration = size > 0 ? await this.#duration(full) : null;
        return { file, size, duration, missing: found === null };
      }),
    );
    // The output vanished before the check saw it: the directory is gone, or the current
    // file is, though it existed (seen; or announced, and ffmpeg ended well, so it opened).
    const current = measured[measured.length - 1];
    if (!session.failure) {
      if (await this.#dirGone()) session.failure = DIRECTORY_REMOVED;
      else if (
        current?.missing &&
        (session.seen.has(current.file) || (session.announced.has(current.file) && exit.ok))
      ) {
        session.failure = fileDeleted(current.file);
      }
    }
    if (session.failure) {
      failed = true;
      reason = session.failure.reason;
    }
    const present = measured.filter((m) => m.size > 0);
    const result: StopResult = {
      device: session.device,
      session_id: session.id,
      filename: session.files[0] ?? '',
      status: 'STOPPED',
      start_time: session.startTime.toISOString(),
      end_time: endTime.toISOString(),
      duration: Math.round(present.reduce((sum, m) => sum + (m.duration ?? 0), 0) * 1000) / 1000,
      file_size: present.reduce((sum, m) => sum + m.size, 0),
      files: present.map((m) => m.file),
      reason,
    };
    await session.journal;
    session.finished = true;
    await unlink(join(this.#dir, '.sessions', `${session.id}.json`)).catch(() => undefined);
    this.#options.log.info(
      {
        device: session.device,
        session_id: session.id,
        reason,
        duration: result.duration,
        files: result.files,
        failed,
      },
      failed ? 'recording failed' : 'recording stopped',
    );
    this.emit('status', {
      device: session.device,
      status: failed ? 'FAILED' : 'STOPPED',
      session_id: session.id,
      filename: result.filename,
      duration: result.duration,
      reason,
      files: result.files,
    });
    return result;
  }

  /**
   * Writes the session's journal (its files so far, and ffmpeg's pid so a later start can
   * tell whether it still runs), after any write before it; nothing once it has finished.
   */
  #journal(session: Session): void {
    session.journal = session.journal.then(async () => {
      if (session.finished) return;
      const file = join(this.#dir, '.sessions', `${session.id}.json`);
      const tmp = `${file}.${randomUUID().slice(0, 8)}.tmp`;
      const text = JSON.stringify({
        session_id: session.id,
        device: session.device,
        format: session.format,
        start_time: session.startTime.toISOString(),
        pid: session.run.pid ?? null,
        files: session.files,
      });
      try {
        await writeFile(tmp, text);
        await rename(tmp, file);
      } catch (error) {
        await unlink(tmp).catch(() => undefined);
        this.#options.log.warn(
          { err: (error as Error).message },
          'could not write the recording journal',
        );
      }
    });
  }
}
