/**
 * Runs a path's command (runOnDemand) exactly as MediaMTX does (internal/externalcmd):
 * no shell. The command string is split into words and its variables are expanded
 * (command-words.ts), then the first word is executed directly with the rest as its
 * arguments, with MediaMTX's own environment plus MTX_PATH, RTSP_PATH, RTSP_PORT,
 * MTX_QUERY... So a command that needs a shell (`2>>file`, `|`, `&&`, `$(...)`) fails on
 * the relay as it fails on MediaMTX. A command that cannot be split, or whose program
 * cannot be started, "exits" at once with the reason, as MediaMTX logs it.
 *
 * The relay's own programs (its HLS muxer) pass `argv` instead: exact arguments, nothing
 * split or expanded.
 *
 * It runs in a process group of its own, and stopping it stops the whole group: SIGINT,
 * then SIGKILL after a grace period (MediaMTX sends SIGINT and waits). When `restart` is
 * set, a command that exits by itself is started again after a pause. The supervisor owns
 * the process: nothing it starts outlives stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { commandArgv, type ExpansionOrder } from './command-words.js';

export interface CommandOptions {
  /** A MediaMTX command string, run without a shell (give this or `argv`). */
  command?: string;
  /** Exact program and arguments, for the relay's own programs. */
  argv?: readonly string[];
  /** The hook's variables: in the environment, and expanded in `command`. */
  env: Record<string, string>;
  /** How `command`'s variables are expanded (MediaMTX v1.18.2+: after splitting). */
  expansion?: ExpansionOrder;
  restart: boolean;
  /** Pause before a restart (MediaMTX waits 5 s; tests shrink it). */
  restartDelayMs?: number;
  /** Time between SIGINT and SIGKILL on stop. */
  killGraceMs?: number;
}

export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the command wrote on stderr, for error reports. */
  stderrTail: string;
  /** Why nothing ran: the command could not be split, or its program could not be started. */
  error?: string;
  /** It exited because stop() asked it to. */
  stopped?: boolean;
}

export class CommandSupervisor extends EventEmitter<{
  started: [pid: number];
  exited: [CommandExit];
}> {
  readonly #options: CommandOptions &
    Required<Pick<CommandOptions, 'restartDelayMs' | 'killGraceMs'>>;
  #child: ChildProcess | null = null;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartPending = false;
  #stderr = '';

  constructor(options: CommandOptions) {
    super();
    if ((options.command === undefined) === (options.argv === undefined))
      throw new TypeError('CommandSupervisor takes either command or argv');
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

  /** The program and arguments a start runs now (the variables are read at each start). */
  argv(): string[] {
    const { argv, command = '', env, expansion } = this.#options;
    if (argv) return [...argv];
    return commandArgv(command, env, expansion ? { order: expansion } : {});
  }

  start(): void {
    if (this.#child || this.#stopping) return;
    clearTimeout(this.#restartTimer);
    this.#restartPending = false;
    this.#stderr = '';
    let argv: string[];
    let child: ChildProcess;
    try {
      argv = this.argv();
      const env = { ...process.env, ...this.#options.env };
      const refusal = formatError(argv[0] as string, env.PATH ?? '');
      if (refusal) throw new Error(refusal);
      child = spawn(argv[0] as string, argv.slice(1), {
        detached: true, // its own process group, so stop() reaches grandchildren too
        stdio: ['ignore', 'ignore', 'pipe'],
        env,
      });
    } catch (error) {
      this.#failed((error as Error).message);
      return;
    }
    this.#child = child;
    let ended = false;
    const end = (exit: CommandExit) => {
      if (ended) return;
      ended = true;
      this.#child = null;
      this.emit('exited', this.#stopping ? { ...exit, stopped: true } : exit);
      this.#scheduleRestart();
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4096);
    });
    child.on('exit', (code, signal) =>
      end({ code, signal, stderrTail: this.#stderr.trim().split('\n').slice(-5).join('\n') }),
    );
    // A program that cannot be started (not found, not executable) never gets a pid.
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined && child.exitCode === null) return;
      end({
        code: null,
        signal: null,
        stderrTail: '',
        error: startError(argv[0] as string, error),
      });
    });
    if (child.pid !== undefined) this.emit('started', child.pid);
  }

  /** Nothing could be run: reported as an exit, and retried like one. */
  #failed(error: string): void {
    this.emit('exited', { code: null, signal: null, stderrTail: '', error });
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (!this.#options.restart || this.#stopping) return;
    this.#restartPending = true;
    this.#restartTimer = setTimeout(() => this.start(), this.#options.restartDelayMs);
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

/**
 * Go starts a program with execve alone, while Node's spawn (execvp) runs a file that is
 * neither a binary nor a `#!` script through /bin/sh: such a file is refused here, as
 * MediaMTX refuses it ("exec format error").
 */
function formatError(program: string, path: string): string | null {
  const file = program.includes('/')
    ? program
    : path
        .split(delimiter)
        .map((dir) => join(dir || '.', program))
        .find((candidate) => {
          try {
            accessSync(candidate, constants.X_OK);
            return statSync(candidate).isFile();
          } catch {
            return false;
          }
        });
  if (!file) return null; // not found: spawn reports it
  let head: Buffer;
  try {
    if (!statSync(file).isFile()) return null;
    accessSync(file, constants.X_OK);
    const fd = openSync(file, 'r');
    head = Buffer.alloc(4);
    const read = readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    head = head.subarray(0, read);
  } catch {
    return null; // missing or not executable: spawn reports it
  }
  const script = head.subarray(0, 2).toString('latin1') === '#!';
  const elf = head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  if (script || elf) return null;
  return `cannot run ${JSON.stringify(program)}: exec format error (it is neither a program nor a script starting with #!; MediaMTX runs no shell to read it)`;
}

/** A sentence for a program that could not be started. */
function startError(program: string, error: NodeJS.ErrnoException): string {
  const name = JSON.stringify(program);
  switch (error.code) {
    case 'ENOENT':
      return program.includes('/')
        ? `cannot run ${name}: there is no such file`
        : `cannot run ${name}: no such program in PATH (commands run without a shell: shell syntax is passed as arguments, it does not work)`;
    case 'EACCES':
      return `cannot run ${name}: it is not an executable file (make it executable, or run it through its interpreter)`;
    default:
      return `cannot run ${name}: ${error.message}`;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}
