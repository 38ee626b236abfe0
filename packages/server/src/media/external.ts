/**
 * External mode: a MediaMTX that something else runs (its own systemd unit), reached at
 * mediamtx.host on the configured ports. The service starts and stops nothing.
 */
import {
  mediaClient,
  type BackendContext,
  type MediaBackend,
  type RunningMedia,
} from './backend.js';
import { urlHost } from './urls.js';

export class ExternalBackend implements MediaBackend {
  readonly #context: BackendContext;

  constructor(context: BackendContext) {
    this.#context = context;
  }

  async start(): Promise<RunningMedia> {
    const { config, credentials } = this.#context;
    const m = config.mediamtx;
    // A MediaMTX that asks the service's hook (docs/operations.md) accepts the service's
    // own API credential; one with its own users takes the configured ones.
    const api =
      m.api_username !== null
        ? { user: m.api_username, password: m.api_password ?? '' }
        : credentials.api;
    return {
      ports: {
        api: m.api_port,
        rtsp: m.rtsp_port,
        hls: m.hls_port,
        webrtc: m.webrtc ? m.webrtc_port : null,
      },
      client: mediaClient(this.#context, `http://${urlHost(m.host)}:${m.api_port}`, api),
      rtspHost: m.host,
      publishHost: null,
    };
  }

  async stop(): Promise<void> {}

  details(): Record<string, unknown> {
    return {};
  }
}
