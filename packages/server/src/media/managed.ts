/**
 * Managed mode: the service runs the mediamtx binary itself.
 *
 * Before each start it stops a MediaMTX an earlier run left behind (stale.ts), picks free
 * ports for every configured 0 (MediaMTX takes no port 0), and writes the configuration
 * (mediamtx-config.ts). The process runs under the supervisor (restarted with backoff),
 * through `setpriv --pdeathsig TERM` where available so that it ends with the service
 * however the service ends, with its pid in `<state_dir>/mediamtx.pid` while it runs.
 *
 * A restarted MediaMTX has forgotten every path the API gave it: the plane is told at
 * once (`restarted`), whatever version runs (before v1.16 there is no start time to
 * compare), and again when the new process answers its API (`answering`).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  mediaClient,
  type BackendContext,
  type MediaBackend,
  type RunningMedia,
} from './backend.js';
import type { MediaMtxClient } from './client.js';
import { goDuration } from './go-duration.js';
import { mediamtxConfig, mediamtxEnvironment, writeMediaMtxConfig } from './mediamtx-config.js';
import { withParentDeathSignal } from './parent-death.js';
import { reservePorts } from './ports.js';
import { removePidFile, stopStaleMediaMtx, writePidFile } from './stale.js';
import { ProcessSupervisor } from './supervisor.js';
import { localHost } from './urls.js';

export class ManagedBackend implements MediaBackend {
  readonly #context: BackendContext;
  readonly #binary: string;
  #supervisor: ProcessSupervisor | null = null;
  #client: MediaMtxClient | null = null;
  #configFile = '';

  constructor(context: BackendContext, binary: string) {
    this.#context = context;
    this.#binary = binary;
  }

  /** The managed media server process, once started. */
  get supervisor(): ProcessSupervisor | null {
    return this.#supervisor;
  }

  /** The configuration file MediaMTX runs with. */
  get configFile(): string {
    return this.#configFile;
  }

  get #pidFile(): string {
    return join(resolve(this.#context.config.service.state_dir), 'mediamtx.pid');
  }

  async start(): Promise<RunningMedia> {
    const { config, log, credentials, hookUrl } = this.#context;
    const m = config.mediamtx;
    const stateDir = resolve(config.service.state_dir);
    mkdirSync(stateDir, { recursive: true });
    this.#configFile = join(stateDir, 'mediamtx.yml');
    // Before the ports are picked: the one left behind may hold them.
    await stopStaleMediaMtx({
      pidFile: this.#pidFile,
      configFile: this.#configFile,
      log: log.child({ component: 'mediamtx' }),
    });
    const udp = m.rtsp_transports.includes('udp');
    const host = m.listen_host;
    const [api, rtsp, hls, webrtc, ice, rtp] = await reservePorts([
      { kind: 'tcp', host: '127.0.0.1', port: m.api_port },
      { kind: 'tcp', host, port: m.rtsp_port },
      { kind: 'tcp', host, port: m.hls_port },
      { kind: 'tcp', host, port: m.webrtc ? m.webrtc_port : 1 },
      { kind: 'udp', host, port: m.webrtc ? m.webrtc_ice_udp_port : 1 },
      { kind: 'udp-pair', host, port: udp ? m.rtp_port : 1 },
    ]);
    const rtpPort = rtp!;
    writeMediaMtxConfig(
      this.#configFile,
      mediamtxConfig({
        apiPort: api!,
        rtspPort: rtsp!,
        hlsPort: hls!,
        webrtcPort: m.webrtc ? webrtc! : null,
        webrtcIceUdpPort: ice!,
        listenHost: host,
        apiUser: credentials.api.user,
        apiPassword: credentials.api.password,
        ...(hookUrl && { authHttpAddress: hookUrl }),
        readTimeout: goDuration(m.read_timeout_seconds),
        writeTimeout: goDuration(m.write_timeout_seconds),
        rtspTransports: m.rtsp_transports,
        ...(udp && {
          rtpPort,
          rtcpPort: m.rtp_port === 0 ? rtpPort + 1 : m.rtcp_port,
        }),
        logLevel: 'info',
      }),
    );
    const client = mediaClient(this.#context, `http://127.0.0.1:${api}`, credentials.api);
    this.#client = client;
    const guarded = withParentDeathSignal(this.#binary, [this.#configFile]);
    const supervisor = new ProcessSupervisor({
      name: 'mediamtx',
      command: guarded.command,
      args: guarded.args,
      env: mediamtxEnvironment(),
      // The supervisor labels its records with component: 'mediamtx' itself.
      log,
      backoff: {
        initialMs: m.backoff_initial_seconds * 1000,
        maxMs: m.backoff_max_seconds * 1000,
        factor: 2,
        jitter: 0.2,
      },
    });
    this.#supervisor = supervisor;
    let running: number | null = null;
    supervisor.on('spawn', ({ pid, attempt }) => {
      running = pid;
      writePidFile(this.#pidFile, pid);
      if (attempt === 1) return;
      this.#context.restarted();
      // Ask at once rather than at the next tick: the paths come back sooner.
      void this.#waitForApi(m.start_timeout_seconds * 1000).then((up) => {
        if (up) this.#context.answering();
      });
    });
    supervisor.on('exit', () => {
      if (running !== null) removePidFile(this.#pidFile, running);
      running = null;
    });
    supervisor.start();
    if (!guarded.guarded) {
      log.warn(
        'setpriv (util-linux) was not found: a mediamtx of a service killed outright keeps running until the next start stops it',
      );
    }
    if (!(await this.#waitForApi(m.start_timeout_seconds * 1000))) {
      // Not fatal: the supervisor keeps restarting it, the monitor keeps asking, and
      // /health/mediamtx says what is wrong; the rest of the service stays up.
      log.error(
        { binary: this.#binary, api_port: api, output: supervisor.tail().slice(-5) },
        `mediamtx did not answer on its API port within ${m.start_timeout_seconds} s; retrying`,
      );
    }
    const ports = { api: api!, rtsp: rtsp!, hls: hls!, webrtc: m.webrtc ? webrtc! : null };
    const local = localHost(host);
    return { ports, client, rtspHost: local, publishHost: local };
  }

  async stop(): Promise<void> {
    await this.#supervisor?.stop();
  }

  details(): Record<string, unknown> {
    const supervisor = this.#supervisor;
    if (!supervisor) return {};
    return {
      process: {
        state: supervisor.state,
        pid: supervisor.pid ?? null,
        restarts: supervisor.restarts,
      },
    };
  }

  /** Asks the API (as every version answers it) until it does or the time is up. */
  async #waitForApi(limitMs: number): Promise<boolean> {
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline && this.#supervisor?.state !== 'stopped') {
      try {
        await this.#client!.listPaths();
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return false;
  }
}
