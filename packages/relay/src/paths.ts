/**
 * Configured paths, as MediaMTX has them: each path accepts a publisher (source
 * `publisher`) and may run a command on demand. A path with runOnDemand starts its
 * command when the first reader asks, holds readers until the stream is ready (up to
 * runOnDemandStartTimeout), and stops the command runOnDemandCloseAfter after the last
 * reader has left. One owner per path: its state is explicit.
 *
 * The command gets MediaMTX's variables (internal/core/path.go, internal/hooks/on_demand.go):
 * MTX_PATH, RTSP_PATH (its older name), RTSP_PORT and MTX_QUERY, the query of the reader
 * that started it (URL-encoded from v1.18.2 on). A stream is ready at its first keyframe
 * with the GOP cache (a released reader decodes at once); without it, when its publisher
 * starts sending, as MediaMTX makes a path ready.
 */
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { CommandSupervisor, type CommandExit } from './command.js';
import { RtspClient } from './rtsp/client.js';
import { parseDuration } from './duration.js';
import type { PathDirectory } from './rtsp/connection.js';
import {
  DEFAULT_MEDIAMTX_VERSION,
  VERSION_RULES,
  queryEscape,
  type MediamtxVersion,
} from './mediamtx-version.js';
import { Stream } from './stream.js';

/** The subset of MediaMTX's PathConf the relay implements, with MediaMTX's defaults. */
export interface PathConf {
  name: string;
  source: string;
  runOnDemand: string;
  runOnDemandRestart: boolean;
  runOnDemandStartTimeout: string;
  runOnDemandCloseAfter: string;
}

export const PATH_DEFAULTS: Omit<PathConf, 'name'> = {
  source: 'publisher',
  runOnDemand: '',
  runOnDemandRestart: false,
  runOnDemandStartTimeout: '10s',
  runOnDemandCloseAfter: '10s',
};

type Refusal = { status: number; reason: string };

export interface PathState {
  conf: PathConf;
  stream: Stream | null;
  publisherId: string | null;
  readyTime: Date | null;
}

export interface PathManagerOptions {
  rtspPort: () => number;
  /** Accept publishers on paths that are not configured (MediaMTX's `all_others`). */
  allowUnconfigured?: boolean;
  restartDelayMs?: number;
  killGraceMs?: number;
  /** The MediaMTX version whose command rules apply (default '1.18'). */
  mediamtxVersion?: MediamtxVersion;
  /** Replay the last GOP to new readers (default true); see Stream. */
  gopCache?: boolean;
}

export interface PathEvents {
  ready: [name: string, stream: Stream];
  notReady: [name: string];
  commandStarted: [name: string, pid: number];
  commandExited: [name: string, exit: CommandExit];
  /** A pulled source could not be read or was lost; it is retried. */
  sourceError: [name: string, reason: string];
}

class RelayPath {
  stream: Stream | null = null;
  /** The RTSP session publishing the stream. */
  publisherId: string | null = null;
  readyTime: Date | null = null;
  readers = 0;
  command: CommandSupervisor | null = null;
  closeTimer: NodeJS.Timeout | undefined;
  /** The client pulling `source: rtsp://...`, while connected or connecting. */
  puller: RtspClient | null = null;
  retryTimer: NodeJS.Timeout | undefined;
  removed = false;
  readonly waiters = new Set<(stream: Stream | null) => void>();

  /**
   * @param dynamic made by a publisher on an unconfigured name (`all_others`): it exists
   *   while published, and has no configuration of its own, as in MediaMTX.
   */
  constructor(
    public conf: PathConf,
    readonly dynamic = false,
  ) {}
}

export class PathManager extends EventEmitter<PathEvents> implements PathDirectory {
  readonly #paths = new Map<string, RelayPath>();
  readonly #options: PathManagerOptions;

  constructor(options: PathManagerOptions) {
    super();
    this.#options = options;
  }

  /** The configured paths (not those published under `all_others`), sorted by name. */
  configs(): PathConf[] {
    return [...this.#paths.values()]
      .filter((p) => !p.dynamic)
      .map((p) => p.conf)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  config(name: string): PathConf | undefined {
    const path = this.#paths.get(name);
    return path && !path.dynamic ? path.conf : undefined;
  }

  /** Live state of a path, for the API. */
  state(name: string): PathState | undefined {
    const path = this.#paths.get(name);
    return (
      path && {
        conf: path.conf,
        stream: path.stream,
        publisherId: path.publisherId,
        readyTime: path.readyTime,
      }
    );
  }

  /** Names of every path, configured or published to (sorted). */
  names(): string[] {
    return [...this.#paths.keys()].sort();
  }

  /** Adds or replaces a path's configuration; a replaced path is closed first. */
  async set(conf: PathConf): Promise<void> {
    parseDuration(conf.runOnDemandStartTimeout);
    parseDuration(conf.runOnDemandCloseAfter);
    const existing = this.#paths.get(conf.name);
    // As MediaMTX reloads only what changed: an identical configuration keeps the path's
    // publisher, readers and command.
    if (existing && !existing.removed && isDeepStrictEqual(existing.conf, conf)) return;
    if (existing) await this.#close(existing);
    const path = new RelayPath(conf);
    this.#paths.set(conf.name, path);
    if (conf.source !== 'publisher') this.#pull(path);
  }

  /**
   * Pulls `source: rtsp://...` for as long as the path exists: the camera's stream is
   * published on the path; when it is lost, readers are closed and it is retried.
   */
  #pull(path: RelayPath): void {
    if (path.removed) return;
    const name = path.conf.name;
    const client = new RtspClient(path.conf.source);
    path.puller = client;
    let stream: Stream | null = null;
    client.on('described', (sdp) => {
      const published = this.#publishOn(path, sdp, 'rtspSource');
      if (published instanceof Stream) stream = published;
      else client.close(published.reason);
    });
    client.on('packet', (track, rtcp, payload) => stream?.write(track, rtcp, payload));
    client.on('closed', (reason) => {
      if (path.puller !== client) return;
      path.puller = null;
      if (stream) this.unpublish(name, stream);
      this.emit('sourceError', name, reason);
      if (!path.removed) {
        path.retryTimer = setTimeout(() => this.#pull(path), this.#options.restartDelayMs ?? 2000);
      }
    });
    client.start().then(
      () => stream?.begin(),
      (error: unknown) => client.close((error as Error).message),
    );
  }

  async remove(name: string): Promise<boolean> {
    const path = this.#paths.get(name);
    if (!path) return false;
    this.#paths.delete(name);
    await this.#close(path);
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#paths.values()].map((p) => this.#close(p)));
  }

  // PathDirectory

  /** A configured path, or any path when unconfigured ones are accepted (`all_others`). */
  hasPath(name: string): boolean {
    return this.#paths.has(name) || this.#options.allowUnconfigured === true;
  }

  /** A reader of `name`; `query` (the reader's raw query) becomes a started command's MTX_QUERY. */
  async read(name: string, query = ''): Promise<Stream | Refusal> {
    const path = this.#paths.get(name);
    if (!path) return { status: 404, reason: `path ${name} is not configured` };
    clearTimeout(path.closeTimer);
    if (path.stream) {
      path.readers += 1;
      return path.stream;
    }
    if (!path.conf.runOnDemand)
      return { status: 404, reason: `no one is publishing to path ${name}` };
    this.#startCommand(path, query);
    const timeoutMs = parseDuration(path.conf.runOnDemandStartTimeout);
    const stream = await new Promise<Stream | null>((resolve) => {
      const timer = setTimeout(() => {
        path.waiters.delete(done);
        resolve(null);
      }, timeoutMs);
      const done = (s: Stream | null) => {
        clearTimeout(timer);
        resolve(s);
      };
      path.waiters.add(done);
    });
    if (!stream) {
      // Nobody else waiting and no stream: the start failed; stop the command.
      if (path.waiters.size === 0 && path.readers === 0) void this.#stopCommand(path);
      return {
        status: 404,
        reason: `the command of path ${name} did not publish within ${path.conf.runOnDemandStartTimeout}`,
      };
    }
    path.readers += 1;
    return stream;
  }

  publish(name: string, sdp: string, publisherId: string): Stream | Refusal {
    let path = this.#paths.get(name);
    if (!path && this.#options.allowUnconfigured) {
      path = new RelayPath({ ...PATH_DEFAULTS, name }, true);
      this.#paths.set(name, path);
    }
    if (!path) return { status: 404, reason: `path ${name} is not configured` };
    if (path.conf.source !== 'publisher') {
      return { status: 400, reason: `path ${name} takes its stream from ${path.conf.source}` };
    }
    return this.#publishOn(path, sdp, publisherId);
  }

  /** Makes `sdp`'s stream the path's stream (from a publisher or a pulled source). */
  #publishOn(path: RelayPath, sdp: string, publisherId: string): Stream | Refusal {
    const name = path.conf.name;
    if (path.stream)
      return { status: 400, reason: `someone is already publishing to path ${name}` };
    const gopCache = this.#options.gopCache ?? true;
    const stream = new Stream(sdp, { gopCache });
    path.stream = stream;
    path.publisherId = publisherId;
    // With the GOP cache, ready once the first keyframe is there: a reader released now
    // can decode at once. Without it, as MediaMTX: when the publisher starts sending.
    void (gopCache ? stream.firstKeyframe : stream.begun).then(() => {
      if (path.stream !== stream) return;
      path.readyTime = new Date();
      for (const waiter of path.waiters) waiter(stream);
      path.waiters.clear();
      this.emit('ready', name, stream);
    });
    return stream;
  }

  unpublish(name: string, stream: Stream): void {
    const path = this.#paths.get(name);
    stream.close('the publisher disconnected');
    if (!path || path.stream !== stream) return;
    path.stream = null;
    path.publisherId = null;
    path.readyTime = null;
    path.readers = 0; // the stream closed its readers
    if (path.command) this.#scheduleClose(path);
    if (path.dynamic) this.#paths.delete(name);
    this.emit('notReady', name);
  }

  readerLeft(name: string, stream: Stream): void {
    const path = this.#paths.get(name);
    // A reader of a stream that has ended was already uncounted when it ended.
    if (!path || path.stream !== stream || path.readers === 0) return;
    path.readers -= 1;
    if (path.readers === 0 && path.command) this.#scheduleClose(path);
  }

  /** Stops the on-demand command runOnDemandCloseAfter from now, unless a reader comes. */
  #scheduleClose(path: RelayPath): void {
    clearTimeout(path.closeTimer);
    path.closeTimer = setTimeout(
      () => void this.#stopCommand(path),
      parseDuration(path.conf.runOnDemandCloseAfter),
    );
  }

  #startCommand(path: RelayPath, query: string): void {
    // One supervisor per path: one waiting out its restart pause restarts by itself, and a
    // second one would start a second publisher that the path refuses, forever. One whose
    // command has ended is replaced, for this reader's query.
    if (path.command?.active) return;
    const name = path.conf.name;
    const rules = VERSION_RULES[this.#options.mediamtxVersion ?? DEFAULT_MEDIAMTX_VERSION];
    const command = new CommandSupervisor({
      command: path.conf.runOnDemand,
      env: {
        MTX_PATH: name,
        RTSP_PATH: name,
        RTSP_PORT: String(this.#options.rtspPort()),
        MTX_QUERY: rules.escapeQuery ? queryEscape(query) : query,
      },
      expansion: rules.expansion,
      restart: path.conf.runOnDemandRestart,
      ...(this.#options.restartDelayMs !== undefined && {
        restartDelayMs: this.#options.restartDelayMs,
      }),
      ...(this.#options.killGraceMs !== undefined && { killGraceMs: this.#options.killGraceMs }),
    });
    command.on('started', (pid) => this.emit('commandStarted', name, pid));
    command.on('exited', (exit) => this.emit('commandExited', name, exit));
    path.command = command;
    command.start();
  }

  async #stopCommand(path: RelayPath): Promise<void> {
    const command = path.command;
    path.command = null;
    clearTimeout(path.closeTimer);
    await command?.stop();
  }

  async #close(path: RelayPath): Promise<void> {
    path.removed = true;
    clearTimeout(path.retryTimer);
    const puller = path.puller;
    path.puller = null;
    puller?.close('the path was removed');
    for (const waiter of path.waiters) waiter(null);
    path.waiters.clear();
    await this.#stopCommand(path);
    path.stream?.close('the path was removed');
    path.stream = null;
  }
}
