/** Starts the real service in-process on free loopback ports, with captured logs. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CameraServiceClient, type ClientOptions } from '@camera-service/sdk';
import { App, ConfigStore, configSchema, createLogger, type Config } from '../../src/index.js';
import type { Role } from '../../src/rpc/index.js';
import { Answers } from './answers.js';
import { LogSink } from './log-sink.js';

/** The secret test services use, so tests can mint tokens of their own. */
export const TEST_JWT_SECRET = 'test-secret-for-the-camera-service-0123456789';

/** The service's clock in tests: real time plus an offset the test can move. */
export class TestClock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;
  advance(ms: number): void {
    this.#offset += ms;
  }
}

export interface ConnectOptions extends Partial<ClientOptions> {
  /** Authenticate as this role (default admin); null stays anonymous. */
  as?: Role | null;
}

export interface TestApp {
  app: App;
  config: Config;
  dir: string;
  wsUrl: string;
  healthUrl: string;
  logs: LogSink;
  clock: TestClock;
  /** The outcomes each method answered; stop() fails on an error a contract does not declare. */
  answers: Answers;
  /** A JWT for a role, minted with the service's secret. */
  token(role: Role, ttlSeconds?: number): Promise<string>;
  /** A connected SDK client, closed by stop(). */
  connect(options?: ConnectOptions): Promise<CameraServiceClient>;
  stop(): Promise<void>;
}

/**
 * The media server the embedded relay imitates in this test run: MediaMTX v1.18 with the
 * relay's GOP cache by default; TEST_MEDIAMTX_VERSION=1.15 and TEST_GOP_CACHE=off make it
 * answer as v1.15 and start new readers as MediaMTX does (the second pass of npm test).
 */
export function relayImitation(): {
  embedded_version: '1.15' | '1.18';
  embedded_gop_cache: boolean;
} {
  return {
    embedded_version: process.env.TEST_MEDIAMTX_VERSION === '1.15' ? '1.15' : '1.18',
    embedded_gop_cache: process.env.TEST_GOP_CACHE !== 'off',
  };
}

type Overrides = { [K in keyof Config]?: Partial<Config[K]> | Config[K] };

export function testConfig(dir: string, overrides: Overrides = {}): Config {
  const base: Record<string, Record<string, unknown> | unknown[]> = {
    server: { host: '127.0.0.1', port: 0 },
    health: { host: '127.0.0.1', port: 0 },
    service: { state_dir: join(dir, 'state') },
    auth: { api_keys_file: join(dir, 'api-keys.json'), jwt_secret: TEST_JWT_SECRET },
    storage: { recordings_dir: join(dir, 'recordings'), snapshots_dir: join(dir, 'snapshots') },
    logging: { level: 'debug', format: 'json' },
    // No camera unless a test declares or plugs one (not the development test pattern).
    cameras: [],
    // An empty device tree of its own: tests plug cameras by creating files there.
    camera: { device_dir: join(dir, 'dev'), sysfs_dir: join(dir, 'sys') },
    mediamtx: {
      mode: 'embedded',
      listen_host: '127.0.0.1',
      api_port: 0,
      rtsp_port: 0,
      hls_port: 0,
      webrtc_port: 0,
      webrtc_ice_udp_port: 0,
      rtp_port: 0,
      rtcp_port: 0,
      auth_hook_port: 0,
      ...relayImitation(),
    },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [section, value] of Object.entries(overrides)) {
    merged[section] =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { ...base[section], ...value }
        : value;
  }
  return configSchema.parse(merged);
}

/**
 * @param options.dir run in this directory (state, media) and leave it on stop, so a test
 *   can start the service again on the same state; default: a new one, removed on stop.
 */
export async function startApp(
  overrides: Overrides = {},
  options: { dir?: string } = {},
): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'camera-service-test-'));
  const config = testConfig(dir, overrides);
  const logs = new LogSink();
  const logging = createLogger({
    level: config.logging.level,
    format: 'json',
    environment: 'development',
    destination: logs,
  });
  const store = new ConfigStore({ config, file: null, envOverrides: {} });
  const clock = new TestClock();
  const app = new App({
    config: store,
    log: logging.logger,
    setLogLevel: logging.setLevel,
    validateResults: true,
    now: clock.now,
  });
  const answers = new Answers(app);
  const addresses = await app.start();
  const clients: CameraServiceClient[] = [];
  const token = (role: Role, ttlSeconds = 3600) =>
    app.jwt.mint({ role, subject: `test-${role}`, ttlSeconds });
  return {
    app,
    config,
    dir,
    wsUrl: addresses.wsUrl,
    healthUrl: addresses.healthUrl,
    logs,
    clock,
    answers,
    token,
    async connect({ as = 'admin', ...options } = {}) {
      const authToken = as === null ? undefined : await token(as);
      const client = new CameraServiceClient({
        url: addresses.wsUrl,
        requestTimeoutMs: 5000,
        authToken,
        ...options,
      });
      await client.connect();
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await app.stop();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
      const undeclared = answers.undeclared();
      if (undeclared.length > 0) {
        throw new Error(
          `methods answered errors their contracts do not declare (declare them, or fix the handler): ${undeclared.join(', ')}`,
        );
      }
    },
  };
}
