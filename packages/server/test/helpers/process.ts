/** Runs the real `camera-service` binary as a child process and follows its JSON log. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TEST_JWT_SECRET, relayImitation } from './app.js';
import { LogSink } from './log-sink.js';
import { within } from './wait.js';

export const BIN = fileURLToPath(new URL('../../src/bin.js', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  logs: LogSink;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Environment for a test daemon: loopback, free ports, JSON logs, state in `dir`. */
export function serviceEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CAMERA_SERVICE_')),
  );
  return {
    ...inherited,
    CAMERA_SERVICE_SERVER_HOST: '127.0.0.1',
    CAMERA_SERVICE_SERVER_PORT: '0',
    CAMERA_SERVICE_HEALTH_HOST: '127.0.0.1',
    CAMERA_SERVICE_HEALTH_PORT: '0',
    CAMERA_SERVICE_LOGGING_FORMAT: 'json',
    CAMERA_SERVICE_SERVICE_STATE_DIR: `${dir}/state`,
    CAMERA_SERVICE_STORAGE_RECORDINGS_DIR: `${dir}/recordings`,
    CAMERA_SERVICE_STORAGE_SNAPSHOTS_DIR: `${dir}/snapshots`,
    CAMERA_SERVICE_AUTH_API_KEYS_FILE: `${dir}/api-keys.json`,
    CAMERA_SERVICE_AUTH_JWT_SECRET: TEST_JWT_SECRET,
    // The embedded relay on free loopback ports: daemons run side by side, and a
    // mediamtx on this machine's PATH must not turn a test into managed mode.
    CAMERA_SERVICE_CAMERA_DEVICE_DIR: `${dir}/dev`,
    // No camera unless a test declares one (not the development test pattern).
    CAMERA_SERVICE_CAMERAS: '[]',
    CAMERA_SERVICE_CAMERA_SYSFS_DIR: `${dir}/sys`,
    CAMERA_SERVICE_MEDIAMTX_MODE: 'embedded',
    CAMERA_SERVICE_MEDIAMTX_LISTEN_HOST: '127.0.0.1',
    CAMERA_SERVICE_MEDIAMTX_API_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_RTSP_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_HLS_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_WEBRTC_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_WEBRTC_ICE_UDP_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_RTP_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_RTCP_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_AUTH_HOOK_PORT: '0',
    CAMERA_SERVICE_MEDIAMTX_EMBEDDED_VERSION: relayImitation().embedded_version,
    CAMERA_SERVICE_MEDIAMTX_EMBEDDED_GOP_CACHE: String(relayImitation().embedded_gop_cache),
    ...extra,
  };
}

export function spawnService(args: string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = new LogSink();
  createInterface({ input: child.stdout! }).on('line', (line) => logs.write(line));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then everything it wrote on stdout and stderr has been read.
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, logs, stderr: () => stderr, exited };
}

/** Starts the daemon and waits for its 'listening' line; returns its URLs. */
export async function startService(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ServiceProcess & { wsUrl: string; healthUrl: string }> {
  const service = spawnService(args, env);
  const exitedEarly = service.exited.then(({ code }) => {
    throw new Error(`the service exited with ${code} before listening:\n${service.stderr()}`);
  });
  const listening = await within(
    Promise.race([
      service.logs.waitFor((r) => r.msg === 'listening', 15_000, "the 'listening' line"),
      exitedEarly,
    ]),
    16_000,
    'the service to listen',
  );
  return { ...service, wsUrl: String(listening.ws_url), healthUrl: String(listening.health_url) };
}

/** Ends a test daemon for sure. */
export async function killService(service: ServiceProcess): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
}
