/**
 * Starts the real server (`node packages/server/dist/src/bin.js`) as a child process on
 * free loopback ports, with every writable path inside a scratch directory, and learns
 * its URLs from its "listening" log line.
 *
 * Its stdout is read to the end, not just until "listening": the server logs through a
 * synchronous pino destination, so a pipe nobody drains would eventually block it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Tail, terminate, track } from './children.js';

export interface ServerHandle {
  pid: number;
  wsUrl: string;
  healthUrl: string;
  /** Warnings and errors the server logged, as JSON text (the first few; see problemCount). */
  problems: string[];
  problemCount: number;
  /** SIGTERM (graceful, as systemd would), SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  repoRoot: string;
  /** Scratch directory: the working directory, state, storage and key paths all go here. */
  scratchDir: string;
  maxConnections: number;
  /** Every benchmark connection comes from 127.0.0.1, so this must allow all of them. */
  maxConnectionsPerIp: number;
  startTimeoutMs: number;
  /** The secret the bench's JWTs are signed with (random per run). */
  jwtSecret: string;
  /** The keys file, inside scratchDir, already holding the bench's API key. */
  apiKeysFile: string;
  /** Per-connection token bucket; the bench sets it far above any rate it can reach. */
  rateLimit: { requestsPerSecond: number; burst: number };
  /**
   * More CAMERA_SERVICE_* settings, applied last (so they may replace the ones above),
   * e.g. the camera section's device directory, probe command and polling.
   */
  extraEnv?: Record<string, string>;
  /**
   * Every JSON line the server logs, parsed, as it is read (e.g. to time its stages from
   * its `time` field). Called synchronously from the stdout reader: keep it cheap.
   */
  onLog?: (entry: Record<string, unknown>) => void;
  /** A YAML configuration file (for what the environment cannot say, e.g. `cameras:`). */
  configFile?: string;
}

/**
 * The camera device directory inside scratchDir: empty unless a section puts nodes in it,
 * so the server never scans (nor probes) the machine's real /dev. startServer creates it;
 * a missing one would be polled and warned about.
 */
export function deviceDirOf(scratchDir: string): string {
  return join(scratchDir, 'dev');
}

/** The server's own hard shutdown limit is 5 s; allow a little more before SIGKILL. */
const STOP_GRACE_MS = 7000;
const MAX_PROBLEMS_KEPT = 10;
const PROBLEM_LEVELS = new Set(['warn', 'error', 'fatal']);

export function serverEnv(options: ServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // A CAMERA_SERVICE_* variable (or a config file) from the caller's shell would change
  // what is measured, so none is inherited: the server runs on defaults plus these.
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('CAMERA_SERVICE_')) env[name] = value;
  }
  const dir = options.scratchDir;
  return {
    ...env,
    CAMERA_SERVICE_SERVER_HOST: '127.0.0.1',
    CAMERA_SERVICE_SERVER_PORT: '0',
    CAMERA_SERVICE_HEALTH_HOST: '127.0.0.1',
    CAMERA_SERVICE_HEALTH_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_MODE: 'embedded',
    CAMERA_SERVICE_MEDIAMTX_LISTEN_HOST: '127.0.0.1',
    CAMERA_SERVICE_MEDIAMTX_API_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_RTSP_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_HLS_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_WEBRTC_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_AUTH_HOOK_PORT: '0',
    CAMERA_SERVICE_SERVER_MAX_CONNECTIONS: String(options.maxConnections),
    CAMERA_SERVICE_SERVER_MAX_CONNECTIONS_PER_IP: String(options.maxConnectionsPerIp),
    // The load generators open all their connections at once and authenticate after: as
    // many may be unauthenticated at a time as there are connections.
    CAMERA_SERVICE_SERVER_MAX_UNAUTHENTICATED_CONNECTIONS: String(options.maxConnections),
    // json, so the "listening" line can be parsed; info, because that line is info.
    CAMERA_SERVICE_LOGGING_FORMAT: 'json',
    CAMERA_SERVICE_LOGGING_LEVEL: 'info',
    CAMERA_SERVICE_SERVICE_STATE_DIR: join(dir, 'state'),
    CAMERA_SERVICE_STORAGE_RECORDINGS_DIR: join(dir, 'recordings'),
    CAMERA_SERVICE_STORAGE_SNAPSHOTS_DIR: join(dir, 'snapshots'),
    CAMERA_SERVICE_AUTH_API_KEYS_FILE: options.apiKeysFile,
    // In the environment, not a config file: nothing is left on disk, and only this
    // user can read a process's environment.
    CAMERA_SERVICE_AUTH_JWT_SECRET: options.jwtSecret,
    CAMERA_SERVICE_AUTH_RATE_LIMIT_REQUESTS_PER_SECOND: String(options.rateLimit.requestsPerSecond),
    CAMERA_SERVICE_AUTH_RATE_LIMIT_BURST: String(options.rateLimit.burst),
    CAMERA_SERVICE_CAMERA_DEVICE_DIR: deviceDirOf(dir),
    // Read only for a node that appears; inside the scratch directory, so never the real one.
    CAMERA_SERVICE_CAMERA_SYSFS_DIR: join(dir, 'sys'),
    // Only the cameras a section declares or plugs (not the development test pattern).
    ...(options.configFile ? {} : { CAMERA_SERVICE_CAMERAS: '[]' }),
    ...options.extraEnv,
  };
}

export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  const bin = join(options.repoRoot, 'packages', 'server', 'dist', 'src', 'bin.js');
  const env = serverEnv(options);
  mkdirSync(env.CAMERA_SERVICE_CAMERA_DEVICE_DIR ?? deviceDirOf(options.scratchDir), {
    recursive: true,
  });
  const args = options.configFile ? ['--config', options.configFile] : [];
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.scratchDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const stderr = new Tail();
  const stdout = new Tail();
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));

  const problems: string[] = [];
  let problemCount = 0;
  let onListening: ((line: Record<string, unknown>) => void) | undefined;
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    stdout.push(`${line}\n`);
    const entry = parseJsonLine(line);
    if (!entry) return;
    if (typeof entry.level === 'string' && PROBLEM_LEVELS.has(entry.level)) {
      problemCount += 1;
      if (problems.length < MAX_PROBLEMS_KEPT) problems.push(line);
    }
    if (entry.msg === 'listening') onListening?.(entry);
    try {
      options.onLog?.(entry);
    } catch (error) {
      // A throw here would be uncaught (a stream callback) and take the bench down.
      process.stderr.write(`[bench] a server log listener threw: ${(error as Error).message}\n`);
    }
  });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForListening(child, options.startTimeoutMs, (resolve) => {
      onListening = resolve;
    });
  } catch (error) {
    await terminate(child, 1000);
    const output = [stdout.toString(), stderr.toString()].filter(Boolean).join('\n');
    throw new Error(`${(error as Error).message}\n--- server output ---\n${output || '(none)'}`);
  }
  const { ws_url: wsUrl, health_url: healthUrl } = listening;
  if (typeof wsUrl !== 'string' || typeof healthUrl !== 'string') {
    await terminate(child, STOP_GRACE_MS);
    throw new Error(`the "listening" line lacks ws_url/health_url: ${JSON.stringify(listening)}`);
  }

  return {
    pid: child.pid as number,
    wsUrl,
    healthUrl,
    problems,
    get problemCount() {
      return problemCount;
    },
    stop: () => terminate(child, STOP_GRACE_MS),
  };
}

function waitForListening(
  child: ChildProcess,
  timeoutMs: number,
  register: (resolve: (line: Record<string, unknown>) => void) => void,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const timer = setTimeout(() => {
      settle();
      reject(new Error(`the server did not log "listening" within ${timeoutMs} ms of starting`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      settle();
      reject(new Error(`the server exited before listening (code ${code}, signal ${signal})`));
    };
    const onError = (error: Error) => {
      settle();
      reject(new Error(`the server could not be started: ${error.message}`));
    };
    child.once('exit', onExit);
    child.once('error', onError);
    register((line) => {
      settle();
      resolve(line);
    });
  });
}

function parseJsonLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
