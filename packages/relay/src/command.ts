/**
 * Runs a path's command (runOnDemand) as MediaMTX does: `/bin/sh -c "exec <command>"`,
 * with MTX_PATH, RTSP_PATH and RTSP_PORT in its environment. It runs in a process group
 * of its own, and stopping it stops the whole group: SIGINT, then SIGKILL after a grace
 * period. When `restart` is set, a command that exits by itself is started again after a
 * pause. The supervisor owns the process: nothing it starts outlives stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface CommandOptions {
  command: string;
  env: Record<string, string>;
  restart: boolean;
  /** Pause before a restart (MediaMTX waits a few seconds; tests shrink it). */
  restartDelayMs?: number;
  /** Time between SIGINT and SIGKILL on stop. */
  killGraceMs?: number;
}

export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the command wrote on stderr, for error reports. */
  stderrTail: string;
}

export class CommandSupervisor extends EventEmitter<{
  started: [pid: number];
  exited: [CommandExit];
}> {
  readonly #options: Required<CommandOptions>;
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartPending = false;
  #stderr = '';

  constructor(options: CommandOptions) {
    super();
    this.#options = { restartDelayMs: 2000, killGraceMs: 5000, ...options };
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** Running, or waiting out the pause before a restart: not to be started again. */
  get active(): boolean {
    return this.#child !== null || this.#restartPending;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#child || this.#stopping) return;
    clearTimeout(this.#restartTimer);
    this.#restartPending = false;
    this.#stderr = '';
    const child = spawn('/bin/sh', ['-c', `exec ${this.#options.command}`], {
      detached: true, // its own process group, so stop() reaches grandchildren too
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...this.#options.env },
    });
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4096);
    });
    child.on('exit', (code, signal) => {
      this.#child = null;
      this.emit('exited', {
        code,
        signal,
        stderrTail: this.#stderr.trim().split('\n').slice(-5).join('\n'),
      });
      if (this.#options.restart && !this.#stopping) {
        this.#restartPending = true;
        this.#restartTimer = setTimeout(() => this.start(), this.#options.restartDelayMs);
      }
    });
    child.on('error', () => undefined); // 'exit' follows and reports it
    if (child.pid !== undefined) this.emit('started', child.pid);
  }

  /** Stops the command and its process group; resolves when it has exited. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    this.#restartPending = false;
    const child = this.#child;
    if (!child || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child.pid, 'SIGINT');
    const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), this.#options.killGraceMs);
    await exited;
    clearTimeout(timer);
    // The leader is gone; make sure nothing it left behind in its group survives.
    signalGroup(child.pid, 'SIGKILL');
  }

  /** Allows start() again after a stop(). */
  reset(): void {
    this.#stopping = false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
