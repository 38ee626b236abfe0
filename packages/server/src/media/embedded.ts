/**
 * Embedded mode: packages/relay in this process, on the configured ports (0: free ones).
 * It asks the service's stream checker in-process, and tells the plane at once when a
 * stream becomes ready or stops (its path manager's `ready` and `notReady` events).
 */
import { Relay } from '@camera-service/relay';
import {
  mediaClient,
  type BackendContext,
  type MediaBackend,
  type RunningMedia,
} from './backend.js';
import { localHost } from './urls.js';

export class EmbeddedBackend implements MediaBackend {
  readonly #context: BackendContext;
  #relay: Relay | null = null;

  constructor(context: BackendContext) {
    this.#context = context;
  }

  /** The in-process relay once started, for tests and the bench. */
  get relay(): Relay | null {
    return this.#relay;
  }

  async start(): Promise<RunningMedia> {
    const { config, log, authorize, onDrop, ready, credentials } = this.#context;
    const m = config.mediamtx;
    const relayLog = log.child({ component: 'relay' });
    const relay = new Relay({
      host: m.listen_host,
      apiHost: '127.0.0.1',
      rtspPort: m.rtsp_port,
      apiPort: m.api_port,
      hlsPort: m.hls_port,
      maxConnections: m.rtsp_max_connections,
      mediamtxVersion: m.embedded_version,
      gopCache: m.embedded_gop_cache,
      readTimeoutMs: m.read_timeout_seconds * 1000,
      writeTimeoutMs: m.write_timeout_seconds * 1000,
      // The same checker MediaMTX reaches through the hook, called in-process.
      ...(authorize && { auth: async (request) => (await authorize(request)).allow }),
      // The relay logs each drop with its reason itself; here it is counted.
      onDrop: (event) => onDrop?.(event.listener, event.reason),
      log: (level, fields, message) => relayLog[level](fields, message),
    });
    relay.paths.on('ready', (name) =>
      ready.set(name, true, relay.paths.state(name)?.readyTime?.toISOString() ?? null),
    );
    relay.paths.on('notReady', (name) => ready.set(name, false));
    const ports = await relay.start();
    this.#relay = relay;
    const host = localHost(m.listen_host);
    return {
      ports: { api: ports.apiPort, rtsp: ports.rtspPort, hls: ports.hlsPort ?? 0, webrtc: null },
      client: mediaClient(this.#context, `http://127.0.0.1:${ports.apiPort}`, credentials.api),
      rtspHost: host,
      publishHost: host,
    };
  }

  async stop(): Promise<void> {
    await this.#relay?.stop();
  }

  details(): Record<string, unknown> {
    return {};
  }
}
