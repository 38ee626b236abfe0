/**
 * Keeps one child process running: the `mediamtx` binary in managed mode.
 *
 * The child gets a process group of its own (`detached`), because MediaMTX starts
 * commands of its own (the ffmpeg of every camera path) and those must go with it: a
 * stop signals the whole group, and when the leader exits by itself the rest of its group
 * is killed too, since an orphaned ffmpeg would keep the camera device busy and make the
 * next MediaMTX fail to open it.
 *
 * A process that exits without stop() having been called is started again after an
 * exponential backoff with jitter, so a crash loop (a port already taken, a bad
 * configuration) neither spins the CPU nor floods the log, and a run that lasted
 * `stableAfterMs` counts as healthy: the next crash is retried quickly again.
 *
 * Its stdout and stderr are logged line by line and the last lines are kept, so that an
 * error report can say what the process said before it died. Log records name the
 * process `child_pid`: `pid` is already the service's own in every record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Logger } from '../logging/index.js';

export type SupervisorState = 'idle' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface RestartBackoff {
  /** The first restart delay, and the delay after a stable run (default 500). */
  initialMs?: number;
  /** The longest delay before jitter (default 30000). */
  maxMs?: number;
  /** Each consecutive failure multiplies the delay by this (default 2). */
  factor?: number;
  /** 0..1: the delay is multiplied by a random factor in [1 - jitter, 1 + jitter] (default 0.2). */
  jitter?: number;
}

export interface SupervisorOptions {
  /** Names the process in logs and messages ("mediamtx"); logged as `component`. */
  name: string;
  /** The executable: a path, or a bare name looked up in the PATH of `env`. */
  command: string;
  args: string[];
  /** Defaults to the service's own environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log: Logger;
  backoff?: RestartBackoff;
  /** A run that lasted this long resets the backoff to `initialMs` (default 10000). */
  stableAfterMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping (default 5000). */
  stopGraceMs?: number;
  /** Source of the jitter, [0, 1) (default Math.random); injectable for tests. */
  random?: () => number;
  /** Monotonic milliseconds for uptimes (default performance.now); injectable for tests. */
  now?: () => number;
}

export interface SpawnInfo {
  pid: number;
  /** 1 for the first process since start(), then 2, 3... for each restart. */
  attempt: number;
}

export interface ExitInfo {
  /** null when the process was killed by a signal or could not be started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How long the process ran (0 when it could not be started). */
  uptimeMs: number;
  /** When it will be started again; null when it stays stopped (stop() was called). */
  restartInMs: number | null;
  /** The last lines the process wrote (stdout and stderr, in order). */
  tail: string[];
  /** Why the process could not be started; null for a process that ran. */
  error: string | null;
}

export interface SupervisorEvents {
  spawn: [SpawnInfo];
  exit: [ExitInfo];
  /**
   * The process could not be started (missing binary, no permission). Emitted only when
   * someone listens, so that a missing binary can never crash the service through an
   * unhandled 'error' event; it is always logged, and 'exit' follows.
   */
  error: [Error];
}

/** Longest output line logged and kept; MediaMTX lines are far shorter, a runaway is cut. */
const MAX_LINE_CHARS = 2048;
/** Lines kept for error reports. */
const TAIL_LINES = 50;
/** How long to wait, after the process exited, for the rest of its output. */
const OUTPUT_DRAIN_MS = 1000;

/** One started process (or one failed attempt to start one). */
interface Run {
  /** null when spawn() threw. */
  child: ChildProcess | null;
  /** The process id, which is also its process group id; undefined when spawning failed. */
  pid: number | undefined;
  startedAt: number;
  /** When the leader exited: its uptime ends there, not when its output was drained. */
  endedAt: number;
  /** The leader has exited (or never started): nothing left to signal. */
  exited: boolean;
  /** Resolved once the exit has been fully handled (logged, emitted, restart scheduled). */
  done: Promise<void>;
  finish: () => void;
}

export class ProcessSupervisor extends EventEmitter<SupervisorEvents> {
  readonly #options: SupervisorOptions;
  readonly #backoff: Required<RestartBackoff>;
  readonly #stableAfterMs: number;
  readonly #stopGraceMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #log: Logger;
  #state: SupervisorState = 'idle';
  #run: Run | null = null;
  #restartTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  /** Exits since the last stable run: the exponent of the next delay. */
  #failures = 0;
  #spawnsSinceStart = 0;
  #tail: string[] = [];
  #stopping: Promise<void> | null = null;
  #exitHookInstalled = false;

  constructor(options: SupervisorOptions) {
    super();
    this.#options = options;
    this.#backoff = {
      initialMs: options.backoff?.initialMs ?? 500,
      maxMs: options.backoff?.maxMs ?? 30_000,
      factor: options.backoff?.factor ?? 2,
      jitter: options.backoff?.jitter ?? 0.2,
    };
    this.#stableAfterMs = options.stableAfterMs ?? 10_000;
    this.#stopGraceMs = options.stopGraceMs ?? 5000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#log = options.log.child({ component: options.name });
    validate(this.#backoff, this.#stableAfterMs, this.#stopGraceMs);
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /** The running process's id (and process group id); undefined when none runs. */
  get pid(): number | undefined {
    const run = this.#run;
    return run && !run.exited && (this.#state === 'running' || this.#state === 'stopping')
      ? run.pid
      : undefined;
  }

  /** A process is up (it may not be ready to serve yet: that is for the API to tell). */
  get running(): boolean {
    return this.#state === 'running' && this.#run?.exited === false;
  }

  /** Restarts after unexpected exits (or failed starts), counted over the supervisor's life. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The last lines (at most 50) the current or latest process wrote, oldest first. */
  tail(): string[] {
    return [...this.#tail];
  }

  /** Starts the process and keeps it running until stop(). Does nothing when already started. */
  start(): void {
    if (this.#state === 'stopping') {
      throw new Error(
        `${this.#options.name} is still stopping: wait for stop() to finish before starting it again`,
      );
    }
    if (this.#state !== 'idle' && this.#state !== 'stopped') return;
    this.#failures = 0;
    this.#spawnsSinceStart = 0;
    this.#installExitHook();
    this.#launch();
  }

  /**
   * Stops the process and everything in its process group: SIGTERM, then SIGKILL after
   * `stopGraceMs`. Cancels a pending restart. Resolves when the process has exited; safe
   * to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = null;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'stopped') {
      this.#state = 'stopped';
      return;
    }
    const wasBackingOff = this.#state === 'backoff';
    this.#state = 'stopping';
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const run = this.#run;
    let killTimer: NodeJS.Timeout | undefined;
    if (run && !run.exited && run.pid !== undefined) {
      const pid = run.pid;
      this.#log.info({ child_pid: pid, grace_ms: this.#stopGraceMs }, 'stopping the process');
      signalGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        this.#log.warn(
          { child_pid: pid, grace_ms: this.#stopGraceMs },
          'the process did not stop in time after SIGTERM; killing its process group',
        );
        signalGroup(pid, 'SIGKILL');
      }, this.#stopGraceMs);
    } else if (wasBackingOff) {
      this.#log.info('stopping: the pending restart is cancelled');
    }
    if (run) await run.done;
    clearTimeout(killTimer);
    this.#removeExitHook();
    this.#state = 'stopped';
    this.#log.info({ restarts: this.#restarts }, 'stopped');
  }

  #launch(): void {
    const { command, args, env, cwd } = this.#options;
    this.#tail = [];
    this.#spawnsSinceStart += 1;
    const attempt = this.#spawnsSinceStart;
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        // A process group of its own, so that signals reach what it starts, too.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: env ?? process.env,
        ...(cwd !== undefined ? { cwd } : {}),
      });
    } catch (error) {
      // Some failures throw at once instead of emitting 'error'; they are handled alike.
      const run = this.#newRun(null);
      this.#state = 'backoff';
      queueMicrotask(() =>
        this.#finishRun(run, null, null, describe(error as Error, this.#options)),
      );
      return;
    }
    const run = this.#newRun(child);
    this.#readLines(run, child.stdout, 'stdout');
    this.#readLines(run, child.stderr, 'stderr');
    if (run.pid === undefined) {
      // Spawning failed (ENOENT, EACCES...): 'error' follows on the next tick.
      this.#state = 'backoff';
      child.once(
        'error',
        (error) => void this.#finishRun(run, null, null, describe(error, this.#options)),
      );
      return;
    }
    const pid = run.pid;
    this.#state = 'running';
    child.once('spawn', () => {
      this.#log.info({ child_pid: pid, attempt, command, args }, 'process started');
      this.emit('spawn', { pid, attempt });
    });
    child.on('error', (error) => {
      // After a successful spawn only a failed kill() could land here, and we never call it.
      this.#log.warn({ child_pid: pid, err: error.message }, 'child process error');
    });
    child.once('exit', (code, signal) => {
      run.exited = true;
      run.endedAt = this.#now();
      // Whatever the leader left behind in its group (an ffmpeg it started) goes with it.
      signalGroup(pid, 'SIGKILL');
      void this.#afterOutput(child).then(() => this.#finishRun(run, code, signal, null));
    });
  }

  #newRun(child: ChildProcess | null): Run {
    let finish = (): void => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const run: Run = {
      child,
      pid: child?.pid,
      startedAt: this.#now(),
      endedAt: Number.NaN,
      exited: child?.pid === undefined,
      done,
      finish,
    };
    this.#run = run;
    return run;
  }

  /** Resolves when the process's output has been read to its end, or after a short wait. */
  #afterOutput(child: ChildProcess): Promise<void> {
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
    const ended = streams.map(
      (stream) =>
        new Promise<void>((resolve) => {
          if (stream.closed) resolve();
          else stream.once('close', resolve);
        }),
    );
    return new Promise<void>((resolve) => {
      // Something outside the group may still hold the pipes; do not wait for it forever.
      const timer = setTimeout(() => {
        for (const stream of streams) stream.destroy();
        resolve();
      }, OUTPUT_DRAIN_MS);
      void Promise.all(ended).then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #finishRun(
    run: Run,
    code: number | null,
    signal: NodeJS.Signals | null,
    error: string | null,
  ): void {
    const uptimeMs = error === null ? Math.max(0, Math.round(run.endedAt - run.startedAt)) : 0;
    const stopping = this.#state === 'stopping' || this.#state === 'stopped';
    let restartInMs: number | null = null;
    if (!stopping) {
      if (uptimeMs >= this.#stableAfterMs) this.#failures = 0;
      restartInMs = this.#delay(this.#failures);
      this.#failures += 1;
    }
    const tail = [...this.#tail];
    const fields = {
      child_pid: run.pid,
      code,
      signal,
      uptime_ms: uptimeMs,
      restart_in_ms: restartInMs,
    };
    if (error !== null) {
      this.#log.error({ restart_in_ms: restartInMs }, error);
    } else if (stopping) {
      this.#log.info(fields, 'process exited');
    } else {
      this.#log.warn({ ...fields, tail: tail.slice(-5) }, 'process exited unexpectedly');
    }
    if (restartInMs !== null) {
      this.#state = 'backoff';
      this.#restartTimer = setTimeout(() => {
        this.#restartTimer = undefined;
        if (this.#state !== 'backoff') return;
        this.#restarts += 1;
        this.#launch();
      }, restartInMs);
    }
    try {
      if (error !== null && this.listenerCount('error') > 0) this.emit('error', new Error(error));
      this.emit('exit', { code, signal, uptimeMs, restartInMs, tail, error });
    } finally {
      run.finish(); // even when a listener throws, stop() must not wait forever
    }
  }

  /** The delay before restart number `failures` (from 0): exponential, capped, jittered. */
  #delay(failures: number): number {
    const { initialMs, maxMs, factor, jitter } = this.#backoff;
    const base = Math.min(maxMs, initialMs * factor ** failures);
    const spread = 1 - jitter + 2 * jitter * this.#random();
    return Math.max(0, Math.round(base * spread));
  }

  #readLines(run: Run, stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    stream.setEncoding('utf8'); // decodes characters split across chunks
    const level = name === 'stdout' ? 'info' : 'warn';
    const lines = new LineSplitter(MAX_LINE_CHARS, (line) => {
      this.#tail.push(line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      this.#log[level]({ stream: name, child_pid: run.pid }, line);
    });
    stream.on('data', (chunk: string) => lines.push(chunk));
    // 'close' also follows a destroy(), which 'end' does not: the last partial line is kept.
    stream.once('close', () => lines.end());
    stream.on('error', () => undefined); // a destroyed pipe: nothing more to read
  }

  /**
   * A detached child survives the service by default. On the service's 'exit' (a normal
   * exit, process.exit() after a signal) its process group is killed synchronously, the
   * only kind of work an 'exit' listener can still do. A SIGKILLed service cannot do
   * this; its unit's KillMode=control-group covers that case.
   */
  readonly #onParentExit = (): void => {
    const run = this.#run;
    if (run && !run.exited && run.pid !== undefined) signalGroup(run.pid, 'SIGKILL');
  };

  #installExitHook(): void {
    if (this.#exitHookInstalled) return;
    process.on('exit', this.#onParentExit);
    this.#exitHookInstalled = true;
  }

  #removeExitHook(): void {
    if (!this.#exitHookInstalled) return;
    process.off('exit', this.#onParentExit);
    this.#exitHookInstalled = false;
  }
}

/** Splits text into lines; a line longer than `max` is cut, and the rest of it skipped. */
class LineSplitter {
  readonly #max: number;
  readonly #onLine: (line: string) => void;
  #partial = '';
  #skipping = false;

  constructor(max: number, onLine: (line: string) => void) {
    this.#max = max;
    this.#onLine = onLine;
  }

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#append(text.slice(start, nl));
      this.#flush();
      start = nl + 1;
    }
    this.#append(text.slice(start));
  }

  end(): void {
    this.#flush();
  }

  #append(text: string): void {
    if (this.#skipping) return;
    this.#partial += text;
    if (this.#partial.length > this.#max) {
      this.#onLine(`${this.#partial.slice(0, this.#max)} …(line cut at ${this.#max} characters)`);
      this.#partial = '';
      this.#skipping = true;
    }
  }

  #flush(): void {
    const line = this.#partial.replace(/\r$/, '');
    if (!this.#skipping && line.trim() !== '') this.#onLine(line);
    this.#partial = '';
    this.#skipping = false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty
  }
}

/** Says why a process could not be started, in words an operator can act on. */
function describe(error: Error, options: SupervisorOptions): string {
  const { command, cwd } = options;
  const code = (error as NodeJS.ErrnoException).code;
  const prefix = `could not start ${command}`;
  const isPath = command.includes('/');
  switch (code) {
    case 'ENOENT':
      if (cwd !== undefined && !existsSync(cwd)) {
        return `${prefix}: its working directory ${cwd} does not exist`;
      }
      if (!isPath) return `${prefix}: file not found in any directory of PATH`;
      if (existsSync(command)) {
        return `${prefix}: the interpreter named on its first line (#!) was not found`;
      }
      return `${prefix}: file not found`;
    case 'EACCES':
      return `${prefix}: permission denied (is the file executable, and its directory searchable?)`;
    default:
      return `${prefix}: ${error.message}`;
  }
}

function validate(backoff: Required<RestartBackoff>, stableAfterMs: number, graceMs: number): void {
  const problems: string[] = [];
  if (!(backoff.initialMs >= 0)) problems.push('backoff.initialMs must be 0 or more');
  if (!(backoff.maxMs >= backoff.initialMs)) problems.push('backoff.maxMs must be >= initialMs');
  if (!(backoff.factor >= 1)) problems.push('backoff.factor must be 1 or more');
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) {
    problems.push('backoff.jitter must be between 0 and 1');
  }
  if (!(stableAfterMs >= 0)) problems.push('stableAfterMs must be 0 or more');
  if (!(graceMs >= 0)) problems.push('stopGraceMs must be 0 or more');
  if (problems.length > 0) {
    throw new RangeError(`invalid process supervisor options: ${problems.join('; ')}`);
  }
}
