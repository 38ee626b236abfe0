/**
 * The one way the service runs ffmpeg (snapshots, recordings).
 *
 * - Arguments are data (an argv array, never a shell string).
 * - Each run has a time limit, keeps the tail of its stderr for error messages, and can
 *   report progress (`-progress pipe:1`, parsed by parseProgress).
 * - stop() asks ffmpeg to finish cleanly (SIGINT: it writes the trailer and exits), then
 *   SIGTERM, then SIGKILL to its process group if it does not.
 * - No ffmpeg outlives the service: every run is tracked and SIGKILLed when the service
 *   process exits; and when the service is killed outright (SIGKILL, a crash), the kernel
 *   sends each ffmpeg SIGTERM, on which it finishes its file and exits: runs are started
 *   through `setpriv --pdeathsig TERM` (util-linux) where it exists. ffmpeg ignores
 *   SIGPIPE, so a broken progress pipe alone would not end it; a run reading the embedded
 *   relay also loses its input then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import type { Logger } from '../logging/index.js';
import { redactCredentials } from '../media/index.js';

export interface FfmpegProgress {
  frame: number | null;
  fps: number | null;
  /** Output time written so far, in seconds. */
  outTimeSeconds: number | null;
  totalSize: number | null;
  speed: number | null;
  /** 'continue' while running, 'end' on the last block. */
  state: string | null;
}

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time from spawn to exit. */
  elapsedMs: number;
  /** The last lines ffmpeg wrote on stderr. */
  stderrTail: string[];
  /** The run passed its time limit and was stopped. */
  timedOut: boolean;
  /** stop() was asked (a clean stop, whatever signal it took). */
  stopped: boolean;
  /** ffmpeg exited with status 0 (or stopped cleanly). */
  ok: boolean;
}

export interface FfmpegOptions {
  args: string[];
  log: Logger;
  /** Names the run in logs ("snapshot camera0"). */
  name: string;
  ffmpeg?: string;
  /** Stop (with escalation) after this long. */
  timeoutMs?: number;
  /**
   * Collect stdout (an image written to pipe:1). Progress reporting is off then; give
   * such a run a time limit.
   */
  captureStdout?: boolean;
  /** Lines of stderr kept (default 20). */
  tailLines?: number;
  /** Bytes to feed on stdin (an input of `-i pipe:0`), then stdin is closed. */
  stdin?: Buffer;
  /** SIGINT → SIGTERM after this; SIGTERM → SIGKILL after as long again (default 3000). */
  graceMs?: number;
  correlationId?: string;
}

export interface FfmpegEvents {
  progress: [FfmpegProgress];
  stderr: [line: string];
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** setpriv, when this machine has it: runs ffmpeg with a parent-death signal. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path)) ?? null;

/** How setpriv says that it could not start the program. */
const EXEC_FAILED = /^setpriv: failed to execute/;

/** SIGKILLs every ffmpeg still running: the service is exiting. */
function killAll(): void {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** How many ffmpeg processes run now (tests, health). */
export function runningFfmpegCount(): number {
  return live.size;
}

export class FfmpegRun extends EventEmitter<FfmpegEvents> {
  readonly pid: number | undefined;
  readonly done: Promise<FfmpegExit>;
  readonly #child: ChildProcess;
  readonly #options: FfmpegOptions;
  readonly #tail: string[] = [];
  readonly #started = performance.now();
  readonly #stdout: Buffer[] = [];
  #timedOut = false;
  #stopRequested = false;
  #exited = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: FfmpegOptions) {
    super();
    this.#options = options;
    if (!exitHookInstalled) {
      process.once('exit', killAll);
      exitHookInstalled = true;
    }
    const progressArgs = options.captureStdout
      ? []
      : ['-progress', 'pipe:1', '-stats_period', '0.5'];
    const args = ['-hide_banner', '-nostdin', '-nostats', ...progressArgs, ...options.args];
    const ffmpeg = options.ffmpeg ?? 'ffmpeg';
    const [file, argv] = SETPRIV
      ? [SETPRIV, ['--pdeathsig', 'TERM', '--', ffmpeg, ...args]]
      : [ffmpeg, args];
    this.#child = spawn(file, argv, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // Its own process group: a stop reaches anything it started.
      detached: true,
    });
    this.pid = this.#child.pid;
    live.add(this.#child);
    options.log.debug(
      {
        run: options.name,
        child_pid: this.pid,
        // The service's own stream credential is in its input URLs: masked.
        args: args.map(redactCredentials),
        correlation_id: options.correlationId,
      },
      'ffmpeg started',
    );
    this.#readStderr();
    this.#readStdout();
    if (options.stdin && this.#child.stdin) {
      // ffmpeg may stop reading early (one frame was enough): that is not an error here.
      this.#child.stdin.on('error', () => undefined);
      this.#child.stdin.end(options.stdin);
    }
    this.done = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exited) return;
        if (this.#tail.some((line) => EXEC_FAILED.test(line))) {
          this.#tail.splice(0, this.#tail.length, `${ffmpeg} was not found: install ffmpeg`);
        }
        this.#exited = true;
        live.delete(this.#child);
        for (const timer of this.#timers) clearTimeout(timer);
        const exit: FfmpegExit = {
          code,
          signal,
          elapsedMs: Math.round(performance.now() - this.#started),
          stderrTail: [...this.#tail],
          timedOut: this.#timedOut,
          stopped: this.#stopRequested,
          // ffmpeg answers SIGINT by finishing the file and exiting with 255.
          ok:
            !this.#timedOut &&
            (code === 0 || (this.#stopRequested && (code === 255 || signal === 'SIGINT'))),
        };
        options.log.debug(
          {
            run: options.name,
            child_pid: this.pid,
            code,
            signal,
            ms: exit.elapsedMs,
            correlation_id: options.correlationId,
          },
          'ffmpeg exited',
        );
        resolve(exit);
      };
      this.#child.once('close', finish);
      this.#child.once('error', (error) => {
        this.#tail.push(
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${options.ffmpeg ?? 'ffmpeg'} was not found: install ffmpeg`
            : error.message,
        );
        finish(null, null);
      });
    });
    if (options.timeoutMs !== undefined) {
      const timer = setTimeout(() => {
        this.#timedOut = true;
        void this.stop();
      }, options.timeoutMs);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  /** The stdout collected with captureStdout. */
  stdout(): Buffer {
    return Buffer.concat(this.#stdout);
  }

  tail(): string[] {
    return [...this.#tail];
  }

  /** Asks ffmpeg to finish (SIGINT), escalating to SIGTERM and SIGKILL; resolves on exit. */
  stop(): Promise<FfmpegExit> {
    if (!this.#exited && !this.#stopRequested) {
      this.#stopRequested = true;
      const grace = this.#options.graceMs ?? 3000;
      this.#signal('SIGINT');
      const term = setTimeout(() => this.#signal('SIGTERM'), grace);
      const kill = setTimeout(() => this.#signal('SIGKILL'), grace * 2);
      this.#timers.push(term, kill);
    }
    return this.done;
  }

  /** Ends it now (SIGKILL to the group). */
  kill(): Promise<FfmpegExit> {
    this.#stopRequested = true;
    this.#signal('SIGKILL');
    return this.done;
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#exited || !this.pid) return;
    try {
      // The group first (anything ffmpeg started), the process itself as a fallback.
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        // gone
      }
    }
  }

  #readStderr(): void {
    let partial = '';
    const max = this.#options.tailLines ?? 20;
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const raw of lines) {
        const line = raw.trim().slice(0, 1000);
        if (!line) continue;
        this.#tail.push(line);
        if (this.#tail.length > max) this.#tail.shift();
        this.emit('stderr', line);
      }
    });
  }

  #readStdout(): void {
    const stdout = this.#child.stdout;
    if (!stdout) return;
    if (this.#options.captureStdout) {
      stdout.on('data', (chunk: Buffer) => this.#stdout.push(chunk));
      return;
    }
    let block = '';
    stdout.setEncoding('utf8').on('data', (chunk: string) => {
      block += chunk;
      let end: number;
      // Each progress block ends with a progress=continue|end line.
      while ((end = block.search(/progress=\w+\r?\n/)) !== -1) {
        const stop = block.indexOf('\n', end) + 1;
        this.emit('progress', parseProgress(block.slice(0, stop)));
        block = block.slice(stop);
      }
      if (block.length > 64 * 1024) block = '';
    });
  }
}

/** Starts ffmpeg. */
export function runFfmpeg(options: FfmpegOptions): FfmpegRun {
  return new FfmpegRun(options);
}

/** One `-progress` block (key=value lines) as numbers; unknown or "N/A" values are null. */
export function parseProgress(block: string): FfmpegProgress {
  const values = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const num = (key: string): number | null => {
    const text = values.get(key);
    if (text === undefined || text === '' || text === 'N/A') return null;
    const value = Number.parseFloat(text);
    return Number.isFinite(value) ? value : null;
  };
  const outUs = num('out_time_us') ?? num('out_time_ms');
  const speed = values.get('speed')?.replace(/x$/, '');
  return {
    frame: num('frame'),
    fps: num('fps'),
    outTimeSeconds: outUs === null ? null : outUs / 1e6,
    totalSize: num('total_size'),
    speed: speed === undefined || speed === 'N/A' ? null : Number.parseFloat(speed) || null,
    state: values.get('progress') ?? null,
  };
}

/**
 * ffmpeg's words made fit for a client: absolute file paths become their file name and
 * stream URLs become "the stream", so no internal path or address reaches the API.
 */
export function redact(text: string): string {
  return text
    .replace(/rtsps?:\/\/[^\s'"]+/g, 'the stream')
    .replace(/(?:\/[^\s/'":]+)+\/([^\s/'":]+)/g, '$1');
}
