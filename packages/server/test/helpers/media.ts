/** A media server for media-plane tests: the embedded relay, reached through MediaMtxClient. */
import { Relay } from '@camera-service/relay';
import { createLogger, type Logger } from '../../src/logging/index.js';
import { MediaMtxClient } from '../../src/media/client.js';
import { relayImitation } from './app.js';
import { LogSink } from './log-sink.js';

export function testLogger(): { log: Logger; logs: LogSink } {
  const logs = new LogSink();
  const { logger } = createLogger({
    level: 'debug',
    format: 'json',
    environment: 'development',
    destination: logs,
  });
  return { log: logger, logs };
}

export interface TestMediaServer {
  relay: Relay;
  client: MediaMtxClient;
  apiPort: number;
  rtspPort: number;
  rtspBase: string;
  logs: LogSink;
  /** Stops the relay (the media server "dies"); the client stays. */
  kill(): Promise<void>;
  /** Starts a fresh relay on the same ports (a restart: its paths are gone). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMediaServer(
  options: { timeoutMs?: number } = {},
): Promise<TestMediaServer> {
  const { embedded_version: mediamtxVersion, embedded_gop_cache: gopCache } = relayImitation();
  const settings = { restartDelayMs: 100, killGraceMs: 1000, mediamtxVersion, gopCache };
  let relay = new Relay({ rtspPort: 0, apiPort: 0, ...settings });
  const { rtspPort, apiPort } = await relay.start();
  const { log, logs } = testLogger();
  const client = new MediaMtxClient({
    baseUrl: `http://127.0.0.1:${apiPort}`,
    log,
    timeoutMs: options.timeoutMs ?? 2000,
  });
  let running = true;
  const server: TestMediaServer = {
    get relay() {
      return relay;
    },
    client,
    apiPort,
    rtspPort,
    rtspBase: `rtsp://127.0.0.1:${rtspPort}`,
    logs,
    async kill() {
      if (!running) return;
      running = false;
      await relay.stop();
    },
    async restart() {
      await server.kill();
      relay = new Relay({ rtspPort, apiPort, ...settings });
      await relay.start();
      running = true;
    },
    async stop() {
      await server.kill();
      client.close();
    },
  };
  return server;
}
