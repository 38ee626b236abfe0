/**
 * What operators do with the files the cameras produced: list them (from the catalogs),
 * read their facts (ffprobe, cached per file version), delete them (never one being
 * written), see how full the disk is, and keep it from filling (retention).
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { ServiceError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { FileCatalog, type CatalogEntry, type SortOrder } from './catalog.js';
import { checkDir, describeFault, dirProblem, storageFault } from './faults.js';
import type { FileKind } from './http.js';
import { probeLimiter, type Limiter } from './limiter.js';
import { checkFilename } from './names.js';
import { readFileOrigin } from './origin-tag.js';
import { probeMedia, type MediaFacts } from './probe.js';
import { RetentionService } from './retention.js';
import { thresholdStatus, volumeUsage, type ThresholdStatus, type VolumeUsage } from './storage.js';

export const EXTENSIONS: Record<FileKind, readonly string[]> = {
  recordings: ['mp4', 'mkv'],
  snapshots: ['jpg', 'jpeg'],
};

export interface ListQuery {
  limit: number;
  offset: number;
  device?: string | undefined;
  sort: SortOrder;
}

export interface ListedFile {
  filename: string;
  file_size: number;
  modified_time: string;
  created_time: string;
  /** Seconds, when known (probed already): get_recording_info gives it always. */
  duration?: number;
  device: string | null;
  download_url: string;
  /** A recording still being written. */
  in_progress: boolean;
}

export interface FilesOptions {
  config: () => Config;
  log: Logger;
  audit: Logger;
  /** Whether a recording is writing this file now. */
  isBeingWritten: (name: string) => boolean;
  /** The camera device of a stream path (camera0 → /dev/video0), or null. */
  deviceOf: (stream: string) => string | null;
  registry?: Registry;
  /** How often the catalogs list their directories again (default 60 s). */
  rescanMs?: number;
  /** How often the catalogs check their directories for files that came without events (2 s). */
  checkMs?: number;
  /** The limiter every ffprobe goes through, shared with the recorder (default: its own). */
  probes?: Limiter;
}

const NO_FACTS: MediaFacts = { duration: null, codec: null, width: null, height: null };

/** A file's stream path: what stands before its date (`camera0_2025-...`). */
function streamOf(name: string): string | null {
  const match = /^(.+?)_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d/.exec(name);
  return match?.[1] ?? null;
}

export class FilesService {
  readonly recordings: FileCatalog;
  readonly snapshots: FileCatalog;
  readonly retention: RetentionService;
  readonly #options: FilesOptions;
  /** ffprobe facts per file, valid while its size and mtime are unchanged. */
  readonly #facts = new Map<string, { size: number; mtimeMs: number; facts: MediaFacts }>();
  readonly #probing = new Map<string, Promise<MediaFacts>>();
  readonly #probes: Limiter;
  #lastStatus: ThresholdStatus | null = null;

  constructor(options: FilesOptions) {
    this.#options = options;
    this.#probes = options.probes ?? probeLimiter(options.config);
    const storage = options.config().storage;
    const catalog = (kind: FileKind, dir: string) =>
      new FileCatalog({
        dir,
        extensions: EXTENSIONS[kind],
        log: options.log,
        ...(options.rescanMs !== undefined && { rescanMs: options.rescanMs }),
        ...(options.checkMs !== undefined && { checkMs: options.checkMs }),
        // However a file goes (a delete, retention, someone's rm), its facts go with it.
        onForget: (name) => this.#facts.delete(join(dir, name)),
        // A snapshot says in itself which camera took it, whatever its name.
        ...(kind === 'snapshots' && { readOrigin: readFileOrigin }),
      });
    this.recordings = catalog('recordings', storage.recordings_dir);
    this.snapshots = catalog('snapshots', storage.snapshots_dir);
    this.retention = new RetentionService({
      config: options.config,
      log: options.log,
      catalogs: () => [this.recordings, this.snapshots],
      isBeingWritten: options.isBeingWritten,
    });
    if (options.registry) this.#metrics(options.registry);
  }

  async start(): Promise<void> {
    await Promise.all([this.recordings.start(), this.snapshots.start()]);
    this.retention.start();
    this.#options.log.info(
      { recordings: this.recordings.count, snapshots: this.snapshots.count },
      'media files indexed',
    );
  }

  async stop(): Promise<void> {
    await this.retention.stop();
    this.recordings.stop();
    this.snapshots.stop();
  }

  /** The configuration was reloaded: retention's policy or interval may have changed. */
  reloaded(): void {
    this.retention.reschedule();
  }

  catalog(kind: FileKind): FileCatalog {
    return kind === 'recordings' ? this.recordings : this.snapshots;
  }

  list(kind: FileKind, query: ListQuery): { files: ListedFile[]; total: number } {
    let entries = this.catalog(kind).sorted(query.sort);
    if (query.device !== undefined) {
      const wanted = query.device;
      // One camera lookup per stream name, not one per file of 10,000.
      const streams = new Map<string, string | null>();
      const deviceOf = (stream: string) => {
        let device = streams.get(stream);
        if (device === undefined) {
          device = this.#options.deviceOf(stream);
          streams.set(stream, device);
        }
        return device;
      };
      entries = entries.filter((e) => {
        const { device, stream } = this.#camera(e, deviceOf);
        return stream !== null && (wanted === stream || wanted === device);
      });
    }
    return {
      files: entries
        .slice(query.offset, query.offset + query.limit)
        .map((e) => this.#listed(kind, e)),
      total: entries.length,
    };
  }

  /**
   * Facts about one file, from ffprobe (cached): -1011 for a bad name, -1004 when missing,
   * -32002 when too many probes wait already.
   */
  async info(kind: FileKind, filename: string) {
    const entry = await this.#existing(kind, filename);
    const file = join(this.catalog(kind).dir, entry.name);
    let facts: MediaFacts;
    const cached = this.#facts.get(file);
    if (cached && cached.size === entry.size && cached.mtimeMs === entry.mtimeMs) {
      facts = cached.facts;
    } else {
      // Callers asking about the same file version at once share one ffprobe.
      const key = `${file}\0${entry.size}\0${entry.mtimeMs}`;
      let probing = this.#probing.get(key);
      if (!probing) {
        // A file ffprobe cannot read has no facts (cached as such); a refusal is not cached.
        probing = this.#probes
          .run(() => probeMedia(file).catch(() => NO_FACTS))
          .finally(() => this.#probing.delete(key));
        this.#probing.set(key, probing);
      }
      facts = await probing;
      this.#facts.set(file, { size: entry.size, mtimeMs: entry.mtimeMs, facts });
    }
    return {
      ...this.#listed(kind, entry),
      duration: facts.duration,
      codec: facts.codec,
      resolution: facts.width && facts.height ? `${facts.width}x${facts.height}` : null,
    };
  }

  /** Deletes a file; refuses one being written (-1006). */
  async delete(kind: FileKind, filename: string, who: { subject: string; role: string }) {
    const entry = await this.#existing(kind, filename);
    if (this.#options.isBeingWritten(entry.name)) {
      throw new ServiceError(
        'recording_in_progress',
        `The file ${entry.name} is being recorded: stop the recording (stop_recording) before deleting it.`,
        { filename: entry.name },
      );
    }
    const catalog = this.catalog(kind);
    const file = join(catalog.dir, entry.name);
    try {
      await unlink(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw storageFault(error, kind, `${kind} cannot be deleted`);
      }
    }
    catalog.forget(entry.name);
    this.#options.audit.info(
      { event: 'file_delete', subject: who.subject, role: who.role, kind, filename: entry.name },
      'audit: file deleted',
    );
    return {
      filename: entry.name,
      deleted: true as const,
      message: `${entry.name} was deleted.`,
    };
  }

  /**
   * Usage of the volume holding the recordings, and what the media takes of it; -1012 when
   * the recordings directory is missing or unreadable.
   */
  async storageInfo() {
    const storage = this.#options.config().storage;
    const { usage, status } = await this.#usage();
    return {
      ...usage,
      recordings_size: this.recordings.totalBytes,
      snapshots_size: this.snapshots.totalBytes,
      recordings_count: this.recordings.count,
      snapshots_count: this.snapshots.count,
      low_space_warning: status !== 'ok',
      threshold_status: status,
      thresholds: {
        warn_percent: storage.warn_percent,
        block_percent: storage.block_percent,
        critical_percent: storage.critical_percent,
      },
      retention: this.retention.policy(),
    };
  }

  /**
   * The storage health component: unhealthy when a media directory is missing, unreadable
   * or not writable (saying which and what fails), or at critical; degraded from warn.
   */
  async healthReport() {
    const consequences: Record<FileKind, string> = {
      recordings: 'recordings cannot be saved',
      snapshots: 'snapshots cannot be saved',
    };
    const problems: string[] = [];
    const directories: Record<string, string> = {};
    for (const kind of ['recordings', 'snapshots'] as const) {
      const cause = await dirProblem(this.catalog(kind).dir, true);
      directories[kind] = cause ?? 'ok';
      if (cause) problems.push(`${describeFault(kind, cause)}: ${consequences[kind]}`);
    }
    const measured = await this.#usage().catch(() => null);
    const details = {
      directories,
      ...(measured && {
        usage_percentage: measured.usage.usage_percentage,
        threshold_status: measured.status,
        available_space: measured.usage.available_space,
      }),
      recordings_size: this.recordings.totalBytes,
      snapshots_size: this.snapshots.totalBytes,
    };
    if (problems.length > 0) {
      return { status: 'unhealthy' as const, message: problems.join('; '), details };
    }
    if (!measured) {
      return {
        status: 'unhealthy' as const,
        message: 'the use of the recordings volume cannot be read',
        details,
      };
    }
    const percent = measured.usage.usage_percentage;
    switch (measured.status) {
      case 'ok':
        return { status: 'healthy' as const, details };
      case 'critical':
        return {
          status: 'unhealthy' as const,
          message: `the disk is ${percent}% full: recordings are stopped and refused`,
          details,
        };
      default:
        return {
          status: 'degraded' as const,
          message: `the disk is ${percent}% full (${measured.status})${measured.status === 'block' ? ': new recordings are refused' : ''}`,
          details,
        };
    }
  }

  async #usage(): Promise<{ usage: VolumeUsage; status: ThresholdStatus }> {
    let usage: VolumeUsage;
    try {
      usage = await volumeUsage(this.recordings.dir);
    } catch (error) {
      throw storageFault(error, 'recordings', 'storage use cannot be measured');
    }
    const status = thresholdStatus(usage.usage_percentage, this.#options.config().storage);
    this.#noteStatus(status, usage.usage_percentage);
    return { usage, status };
  }

  #noteStatus(status: ThresholdStatus, percent: number): void {
    if (status === this.#lastStatus) return;
    const previous = this.#lastStatus;
    this.#lastStatus = status;
    if (previous === null && status === 'ok') return;
    (status === 'ok' ? this.#options.log.info : this.#options.log.warn).call(
      this.#options.log,
      { from: previous, to: status, usage_percentage: percent },
      'storage threshold crossed',
    );
  }

  async #existing(kind: FileKind, filename: string): Promise<CatalogEntry> {
    const name = checkFilename(filename, EXTENSIONS[kind]);
    const catalog = this.catalog(kind);
    // The catalog may lag a writer by an event: ask the file system.
    const entry = await catalog.note(name);
    if (!entry) {
      // Not there because the whole directory is gone or unreadable: say that instead.
      await checkDir(catalog.dir, kind, false, `${kind} cannot be read`);
      throw new ServiceError(
        'file_not_found',
        `There is no ${kind.slice(0, -1)} named ${name}: list_${kind} lists them.`,
        { filename: name },
      );
    }
    return entry;
  }

  /**
   * The camera a file came from: what the file says (a snapshot's origin tag), else what its
   * default name says (its stream, and the device of the camera on that stream now).
   */
  #camera(
    entry: CatalogEntry,
    deviceOf = this.#options.deviceOf,
  ): { device: string | null; stream: string | null } {
    if (entry.origin) return entry.origin;
    const stream = streamOf(entry.name);
    return { device: stream === null ? null : deviceOf(stream), stream };
  }

  #listed(kind: FileKind, entry: CatalogEntry): ListedFile {
    const camera = this.#camera(entry);
    const cached = this.#facts.get(join(this.catalog(kind).dir, entry.name));
    const duration =
      cached && cached.size === entry.size && cached.mtimeMs === entry.mtimeMs
        ? cached.facts.duration
        : null;
    return {
      filename: entry.name,
      file_size: entry.size,
      modified_time: new Date(entry.mtimeMs).toISOString(),
      created_time: new Date(entry.createdMs).toISOString(),
      ...(duration !== null && kind === 'recordings' && { duration }),
      device: camera.device ?? camera.stream,
      download_url: `/files/${kind}/${encodeURIComponent(entry.name)}`,
      in_progress: kind === 'recordings' && this.#options.isBeingWritten(entry.name),
    };
  }

  #metrics(registry: Registry): void {
    const recordings = this.recordings;
    const snapshots = this.snapshots;
    const usage = () => this.#usage();
    new Gauge({
      name: 'camera_service_media_bytes',
      help: 'Bytes of media files, by kind.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.set({ kind: 'recordings' }, recordings.totalBytes);
        this.set({ kind: 'snapshots' }, snapshots.totalBytes);
      },
    });
    new Gauge({
      name: 'camera_service_media_files',
      help: 'Media files, by kind.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.set({ kind: 'recordings' }, recordings.count);
        this.set({ kind: 'snapshots' }, snapshots.count);
      },
    });
    const config = this.#options.config;
    new Gauge({
      name: 'camera_service_storage_threshold_percent',
      help: 'The configured storage thresholds (storage.warn_percent, block_percent, critical_percent), by level.',
      labelNames: ['level'],
      registers: [registry],
      collect() {
        const s = config().storage;
        this.set({ level: 'warn' }, s.warn_percent);
        this.set({ level: 'block' }, s.block_percent);
        this.set({ level: 'critical' }, s.critical_percent);
      },
    });
    new Gauge({
      name: 'camera_service_storage_usage_percent',
      help: 'Use of the volume holding the recordings, in percent.',
      registers: [registry],
      async collect() {
        try {
          this.set((await usage()).usage.usage_percentage);
        } catch {
          // The directory is missing or unreadable: no sample rather than a made-up 0 (the
          // storage health component says why).
          this.remove();
        }
      },
    });
  }
}
