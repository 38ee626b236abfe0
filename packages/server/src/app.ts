/**
 * The composition root: builds every module, wires them together, starts them in order
 * and stops them in reverse. No logic of its own beyond wiring.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiKeyStore,
  AuthAccessControl,
  Authenticator,
  FailureThrottle,
  JwtService,
  StreamAccess,
  WebSessions,
  credentialOf,
  guardRequest,
  hashOf,
  registerKeyMethods,
  sessionCookie,
  registerAuthMethods,
  resolveJwtSecret,
} from './auth/index.js';
import {
  CameraService,
  DEVELOPMENT_TEST_PATTERN,
  cameraStatusUpdate,
  effectiveCameras,
  registerCameraMethods,
} from './cameras/index.js';
import {
  GopKeepers,
  RecordingService,
  SnapshotService,
  recordingStatusUpdate,
  registerCaptureMethods,
} from './capture/index.js';
import type { Config, ConfigStore, ReloadResult } from './config/index.js';
import {
  MseStreams,
  authorizeDashboard,
  dashboardBuilt,
  defaultDashboardDir,
  isSessionRequest,
  isStreamRequest,
  mseUpgrade,
  sameOrigin,
  serveDashboard,
  serveStream,
  sessionHandler,
  type DashboardAuth,
} from './dashboard/index.js';
import {
  EXTENSIONS,
  FilesService,
  downloadHandler,
  isFileRequest,
  probeLimiter,
  registerFilesMethods,
} from './files/index.js';
import {
  HealthRegistry,
  ServiceMetrics,
  certificateNotAfter,
  healthHandler,
} from './health/index.js';
import type { Logger } from './logging/index.js';
import { MediaPlane, registerMediaMethods, type ResolvedMode } from './media/index.js';
import { Dispatcher, MethodRegistry } from './rpc/index.js';
import { SERVER_CAPABILITIES, SUPPORTED_FORMATS, registerSystemMethods } from './system/index.js';
import {
  ClientResolver,
  WsServer,
  closeServer,
  createHttpServer,
  listen,
  sendJson,
  targetQuery,
  type WsLimits,
} from './transport/index.js';
import { API_VERSION, VERSION } from './version.js';

export interface AppOptions {
  config: ConfigStore;
  log: Logger;
  /** Changes the level of every logger (SIGHUP reload of logging.level). */
  setLogLevel?: (level: string) => void;
  /** Checks every result against its method's contract; for tests. */
  validateResults?: boolean;
  /** The clock (epoch ms) for token expiry, rate limits and throttling; tests move it. */
  now?: () => number;
  /** Overrides the media server mode resolution (tests). */
  mediaMode?: ResolvedMode;
}

export interface AppAddresses {
  api: AddressInfo;
  health: AddressInfo;
  /** ws:// or wss:// URL of the JSON-RPC endpoint, on the address actually bound. */
  wsUrl: string;
  healthUrl: string;
}

function wsLimits(config: Config): WsLimits {
  const s = config.server;
  return {
    maxConnections: s.max_connections,
    maxConnectionsPerIp: s.max_connections_per_ip,
    maxUnauthenticated: s.max_unauthenticated_connections,
    authTimeoutMs: s.auth_timeout_seconds * 1000,
    maxMessageBytes: s.max_message_bytes,
    maxInflight: s.max_inflight_requests,
    maxSendBufferBytes: s.max_send_buffer_bytes,
    keepaliveIntervalMs: s.keepalive_interval_seconds * 1000,
  };
}

function rateLimit(config: Config) {
  const r = config.auth.rate_limit;
  return { requestsPerSecond: r.requests_per_second, burst: r.burst };
}

function urlHost(address: AddressInfo): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

export class App {
  readonly metrics = new ServiceMetrics();
  readonly health = new HealthRegistry({ version: VERSION });
  readonly methods = new MethodRegistry();
  readonly ws: WsServer;
  /** Who a request comes from, through server.trusted_proxies. */
  readonly clients: ClientResolver;
  readonly jwt: JwtService;
  readonly apiKeys: ApiKeyStore;
  readonly authenticator: Authenticator;
  /** Dashboard sign-ins: session cookies and what they stand for. */
  readonly sessions: WebSessions;
  /** Live fMP4 for the dashboard's MediaSource players, one producer per camera. */
  readonly mse: MseStreams;
  /** Where the built dashboard is served from. */
  readonly dashboardDir: string;
  readonly #dashboardAuth: DashboardAuth;
  readonly media: MediaPlane;
  /** Who may read and publish streams: the media server asks it for every action. */
  readonly streamAccess: StreamAccess;
  readonly cameras: CameraService;
  readonly snapshots: SnapshotService;
  readonly recordings: RecordingService;
  readonly files: FilesService;
  readonly #downloads: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  readonly #access: AuthAccessControl;
  readonly #keepers: GopKeepers;
  readonly #throttle: FailureThrottle;
  readonly #config: ConfigStore;
  readonly #log: Logger;
  readonly #setLogLevel: ((level: string) => void) | undefined;
  readonly #dispatcher: Dispatcher;
  readonly #apiServer: Server;
  readonly #healthServer: Server;
  #addresses: AppAddresses | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: AppOptions) {
    const config = options.config.current;
    this.#config = options.config;
    this.#log = options.log;
    this.#setLogLevel = options.setLogLevel;
    const now = options.now ?? Date.now;

    // Authentication: throws a ConfigError (exit 78) when the secret is unusable.
    const secret = resolveJwtSecret(config, (path) =>
      this.#log.warn(
        { path },
        'development mode: generated a JWT secret in the state directory; set auth.jwt_secret for production',
      ),
    );
    this.jwt = new JwtService(secret, { now });
    this.apiKeys = new ApiKeyStore({
      file: config.auth.api_keys_file,
      log: this.#log.child({ component: 'auth' }),
    });
    this.apiKeys.load();
    this.#throttle = new FailureThrottle({
      limit: config.auth.failed_attempts.limit,
      windowMs: config.auth.failed_attempts.window_seconds * 1000,
    });
    // One audit log for authentication, downloads and deletions.
    const audit = this.#log.child({ component: 'audit' });
    this.authenticator = new Authenticator({
      jwt: this.jwt,
      keys: this.apiKeys,
      throttle: this.#throttle,
      audit: audit,
      now,
    });
    this.#access = new AuthAccessControl({
      authenticator: this.authenticator,
      now,
      rateLimit: rateLimit(config),
    });
    registerAuthMethods(this.methods, this.authenticator);
    registerKeyMethods(this.methods, this.apiKeys, audit);
    this.sessions = new WebSessions({
      authenticator: this.authenticator,
      now,
      max: config.server.max_dashboard_sessions,
    });

    this.#dispatcher = new Dispatcher({
      registry: this.methods,
      log: this.#log.child({ component: 'rpc' }),
      access: this.#access,
      maxBatch: config.server.max_batch_requests,
      validateResults: options.validateResults ?? false,
      onCall: (call) => this.metrics.observeCall(call),
    });

    this.clients = new ClientResolver(config.server.trusted_proxies);
    this.#dashboardAuth = {
      sessions: this.sessions,
      authenticator: this.authenticator,
      clients: this.clients,
      audit,
    };
    this.ws = new WsServer({
      clients: this.clients,
      // A dashboard page connects signed in by its session cookie, from its own origin.
      preauthenticate: (req) => {
        const id = sessionCookie(req.headers.cookie);
        if (id === undefined) return null;
        if (!sameOrigin(req, this.clients)) {
          return {
            refuse: 403 as const,
            message:
              "Refused: a connection carrying the dashboard's session cookie must come from the service's own pages (Origin did not match).",
          };
        }
        const principal = this.sessions.get(id);
        return principal ? { principal, tag: hashOf(id) } : null;
      },
      path: config.server.websocket_path,
      limits: wsLimits(config),
      handler: this.#dispatcher,
      log: this.#log.child({ component: 'websocket' }),
      now,
    });
    this.ws.on('open', () => this.metrics.setConnections(this.ws.size));
    this.ws.on('close', () => this.metrics.setConnections(this.ws.size));
    this.ws.on('drop', (reason) => this.metrics.dropped('websocket', reason));

    this.sessions.onEnd((hash) => this.ws.closeTagged(hash, 'the dashboard session has ended'));
    this.dashboardDir = config.server.dashboard_dir ?? defaultDashboardDir();
    const signIn = sessionHandler(this.#dashboardAuth, now);
    this.#apiServer = createHttpServer(
      config.server.tls,
      (req, res) => {
        if (isFileRequest(req)) return this.#downloads(req, res);
        if (isSessionRequest(req)) return signIn(req, res);
        if (isStreamRequest(req)) return this.#stream(req, res);
        if (serveDashboard(this.dashboardDir, req, res)) return undefined;
        sendJson(res, 404, {
          error: `This is the camera service API port: connect a WebSocket to ${config.server.websocket_path}, or download files from /files/recordings/ and /files/snapshots/.`,
        });
        return undefined;
      },
      {
        log: this.#log.child({ component: 'http' }),
        name: 'API server',
        maxConnections: config.server.max_http_connections,
      },
    );
    this.mse = new MseStreams({
      readerUrl: (path) => this.media.readerUrl(path),
      log: this.#log.child({ component: 'live' }),
    });
    const live = mseUpgrade({
      auth: this.#dashboardAuth,
      mse: this.mse,
      hasPath: (path) => this.#hasPath(path),
    });
    this.#apiServer.on('upgrade', (req, socket, head) => {
      if (isStreamRequest(req)) live(req, socket, head);
      else this.ws.handleUpgrade(req, socket, head);
    });
    // For the certificate-expiry alert: the one served until the next restart.
    if (config.server.tls.cert)
      this.metrics.setCertificateExpiry(certificateNotAfter(config.server.tls.cert));

    this.#healthServer = createHttpServer(
      { cert: null, key: null },
      healthHandler({
        registry: this.health,
        metrics: this.metrics,
        log: this.#log.child({ component: 'health' }),
        guardMetrics: config.health.metrics_auth
          ? (req, res) =>
              guardRequest(req, res, 'admin', this.authenticator, this.clients.address(req))
          : undefined,
      }),
      { log: this.#log.child({ component: 'health' }), name: 'health server' },
    );

    this.health.register({
      name: 'websocket',
      critical: true,
      check: () => {
        const { maxConnections } = this.ws.limits;
        const details = { connections: this.ws.size, max_connections: maxConnections };
        if (!this.#apiServer.listening) {
          return { status: 'unhealthy', message: 'the API port is not listening', details };
        }
        if (this.ws.size >= maxConnections) {
          return {
            status: 'degraded',
            message: 'at the connection limit: new clients are refused',
            details,
          };
        }
        return { status: 'healthy', details };
      },
    });

    // Throws a MediaModeError (exit 78) when the configured mode cannot run.
    this.media = new MediaPlane({
      config,
      log: this.#log.child({ component: 'media' }),
      health: this.health,
      registry: this.metrics.registry,
      ...(options.mediaMode && { mode: options.mediaMode }),
      // Every stream action the media server is asked for is decided here.
      authorize: (request) => this.streamAccess.check(request),
      anonymousViewing: () => this.#config.current.auth.anonymous_viewing,
      onDrop: (listener, reason) => this.metrics.dropped(listener, reason),
    });
    this.streamAccess = new StreamAccess({
      authenticator: this.authenticator,
      credentials: this.media.credentials,
      anonymousViewing: () => this.#config.current.auth.anonymous_viewing,
      localAddresses: () => [config.mediamtx.listen_host],
      audit,
      now,
    });
    registerMediaMethods(this.methods, this.media);

    // A fresh development box with no camera and no cameras: key serves a test pattern.
    const declared = effectiveCameras(config);
    if (declared.testPattern) {
      this.#log.info(
        { camera: DEVELOPMENT_TEST_PATTERN.id },
        'development: no cameras declared and no V4L2 device found, so a test-pattern camera test0 is served (set cameras: [] to turn it off)',
      );
    }
    this.cameras = new CameraService({
      config: { ...config, cameras: declared.cameras },
      log: this.#log.child({ component: 'cameras' }),
      media: this.media,
      registry: this.metrics.registry,
    });
    registerCameraMethods(this.methods, this.cameras);
    // Every authenticated client hears of every camera change, with stream URLs on the
    // host it connected with.
    const announced = new Set<string>();
    this.cameras.on('update', (camera) => {
      const view = this.cameras.toObject(camera, { host: null });
      // A stream that became ready gets its GOP keeper; a camera that went, loses it.
      if (camera.status !== 'CONNECTED') this.#keepers?.release(camera.path);
      else if (view.stream_ready) this.#keepers?.acquire(camera.path);
      // One line per camera as it becomes watchable, with where to watch it.
      if (camera.status === 'CONNECTED' && view.streams.rtsp && !announced.has(camera.path)) {
        announced.add(camera.path);
        this.#log.info(
          {
            component: 'cameras',
            device: camera.device,
            rtsp: view.streams.rtsp,
            hls: view.streams.hls,
            webrtc: view.streams.webrtc,
            credential: view.streams.credential,
          },
          `camera ${camera.device} is streaming at ${view.streams.rtsp}`,
        );
      } else if (camera.status !== 'CONNECTED') {
        announced.delete(camera.path);
      }
      this.ws.broadcastEach(
        cameraStatusUpdate.name,
        (session) => this.cameras.toObject(camera, session),
        (session) => `${session.secure ? 's' : ''}${session.host ?? ''}`,
      );
    });
    const captureLog = this.#log.child({ component: 'capture' });
    // One bound on ffprobe for file info and the recorder's own measurements.
    const probes = probeLimiter(() => this.#config.current);
    this.recordings = new RecordingService({
      media: this.media,
      log: captureLog,
      config: () => this.#config.current,
      probes,
    });
    this.recordings.on('status', (event) => {
      if (event.status === 'FAILED') this.metrics.recordingFailed();
    });
    this.files = new FilesService({
      config: () => this.#config.current,
      log: this.#log.child({ component: 'files' }),
      audit: audit,
      isBeingWritten: (name) => this.recordings.isBeingWritten(name),
      deviceOf: (stream) =>
        this.cameras.list().find((camera) => camera.path === stream)?.device ?? null,
      registry: this.metrics.registry,
      probes,
    });
    // Light readers holding each active stream's GOP: warm snapshots on MediaMTX too.
    this.#keepers = new GopKeepers({
      url: (path) => this.media.readerUrl(path),
      readers: async (path) => (await this.media.pathState(path))?.readers.length ?? null,
      log: captureLog,
    });
    this.snapshots = new SnapshotService({
      media: this.media,
      log: captureLog,
      config: () => this.#config.current,
      onWritten: (name) => this.files.snapshots.note(name),
      keepers: this.#keepers,
    });
    this.#downloads = downloadHandler({
      dirs: () => ({
        recordings: { dir: this.files.recordings.dir, extensions: EXTENSIONS.recordings },
        snapshots: { dir: this.files.snapshots.dir, extensions: EXTENSIONS.snapshots },
      }),
      // Header credentials, or the dashboard's session cookie.
      authorize: (req, role) => authorizeDashboard(req, role, this.#dashboardAuth),
      audit: audit,
      log: this.#log.child({ component: 'files' }),
      maxDownloads: () => this.#config.current.server.max_downloads,
      maxDownloadsPerIp: () => this.#config.current.server.max_downloads_per_ip,
      idleTimeoutMs: () => this.#config.current.server.download_idle_timeout_seconds * 1000,
      onDrop: (reason) => this.metrics.dropped('download', reason),
      // Shares and audit lines per real client, also behind a trusted proxy.
      clientAddress: (req) => this.clients.address(req),
    });
    this.cameras.setHooks({
      recording: (device) => this.recordings.state(device),
      beforeDisconnect: async (device) => {
        // Also a recording still starting: it is cancelled, and waited for.
        if (this.recordings.recording(device)) {
          await this.recordings.end(device, 'camera disconnected');
        }
      },
    });
    this.recordings.on('status', (event) => {
      this.ws.broadcast(recordingStatusUpdate.name, event);
      // A new segment, or the final size of the files: the listing follows at once.
      for (const name of [event.filename, ...(event.files ?? [])]) {
        void this.files.recordings.note(name);
      }
      // The camera object's recording block changed too.
      const camera = this.cameras.get(event.device);
      if (
        camera &&
        (event.status === 'STARTED' || event.status === 'STOPPED' || event.status === 'FAILED')
      ) {
        this.cameras.emit('update', camera);
      }
    });
    registerCaptureMethods(this.methods, {
      cameras: this.cameras,
      snapshots: this.snapshots,
      recordings: this.recordings,
    });

    this.health.register({
      name: 'cameras',
      critical: true,
      check: () => this.cameras.healthReport(),
    });
    registerFilesMethods(this.methods, this.files);
    // A full disk stops recordings, not the service: not critical for readiness.
    this.health.register({
      name: 'storage',
      critical: false,
      check: () => this.files.healthReport(),
    });

    registerSystemMethods({
      identity: {
        name: 'MediaMTX Camera Service',
        version: VERSION,
        apiVersion: API_VERSION,
        capabilities: [...SERVER_CAPABILITIES],
        supportedFormats: [...SUPPORTED_FORMATS],
      },
      methods: this.methods,
      health: this.health,
      metrics: this.metrics,
      connections: () => this.ws.size,
      limits: () => {
        const c = this.#config.current;
        return {
          max_message_bytes: c.server.max_message_bytes,
          max_batch_requests: c.server.max_batch_requests,
          max_connections: c.server.max_connections,
          max_cameras: c.camera.max_cameras,
        };
      },
    });

    this.#config.on('change', ({ current }) => this.#applyLive(current));
  }

  get addresses(): AppAddresses {
    if (!this.#addresses) throw new Error('the app has not started');
    return this.#addresses;
  }

  async start(): Promise<AppAddresses> {
    const config = this.#config.current;
    this.apiKeys.watch();
    // The media server first: by the time clients connect, streams can be served.
    await this.media.start();
    await this.recordings.recover();
    this.recordings.start();
    await this.files.start();
    await this.cameras.start();
    const api = await listen(this.#apiServer, config.server.port, config.server.host, 'API server');
    const health = await listen(
      this.#healthServer,
      config.health.port,
      config.health.host,
      'health server',
    );
    const scheme = config.server.tls.cert ? 'wss' : 'ws';
    this.#addresses = {
      api,
      health,
      wsUrl: `${scheme}://${urlHost(api)}:${api.port}${config.server.websocket_path}`,
      healthUrl: `http://${urlHost(health)}:${health.port}`,
    };
    this.health.setReady(true);
    // Every port, those picked by port 0 included: the media server's too.
    const media = this.media.ports;
    this.#log.info(
      {
        api_port: api.port,
        health_port: health.port,
        ws_url: this.#addresses.wsUrl,
        health_url: this.#addresses.healthUrl,
        rtsp_port: media.rtsp,
        hls_port: media.hls,
        webrtc_port: media.webrtc,
        mediamtx_api_port: media.api,
        ...(this.media.authHookUrl && { auth_hook_url: this.media.authHookUrl }),
      },
      'listening',
    );
    const dashboard = `${config.server.tls.cert ? 'https' : 'http'}://${urlHost(api)}:${api.port}/`;
    this.#log.info(
      {
        dashboard_url: dashboard,
        dashboard_dir: this.dashboardDir,
        built: dashboardBuilt(this.dashboardDir),
      },
      dashboardBuilt(this.dashboardDir)
        ? `dashboard at ${dashboard}`
        : `dashboard at ${dashboard} (not built yet: run npm run build)`,
    );
    return this.#addresses;
  }

  /** Re-reads the configuration (SIGHUP); the running one stays when the new one is invalid. */
  reload(): ReloadResult {
    const result = this.#config.reload();
    if (!result.ok) {
      this.#log.error(
        { err: result.error.message },
        'configuration reload failed; keeping the running configuration',
      );
      return result;
    }
    const { applied, pendingRestart } = result.change;
    if (pendingRestart.length > 0) {
      this.#log.warn(
        { keys: pendingRestart },
        'configuration changes that take effect after a restart',
      );
    }
    this.#log.info(
      { applied },
      applied.length > 0 ? 'configuration reloaded' : 'configuration reloaded: nothing to apply',
    );
    return result;
  }

  /** Stops in reverse order of start. Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.health.setReady(false, 'the service is stopping');
    const timeoutMs = this.#config.current.server.shutdown_timeout_seconds * 1000;
    await Promise.all([closeServer(this.#apiServer), this.ws.close(timeoutMs), this.mse.close()]);
    // Recordings first: their files are finalised while the streams still run.
    this.#keepers.stop();
    await this.recordings.stop();
    await this.files.stop();
    await this.cameras.stop();
    await this.media.stop();
    await closeServer(this.#healthServer);
    this.apiKeys.close();
    this.metrics.close();
  }

  /** Whether a camera streams at this path. */
  #hasPath(path: string): boolean {
    return this.cameras.list().some((camera) => camera.path === path);
  }

  /** A /streams/ request: authorised here, then proxied with the service's own credential. */
  async #stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const result = await authorizeDashboard(req, 'viewer', this.#dashboardAuth, {
      queryToken: true,
    });
    if (!result.ok) {
      sendJson(res, result.status, { error: result.message }, result.headers);
      return;
    }
    const query = new URLSearchParams(targetQuery(req.url));
    await serveStream(
      req,
      res,
      {
        hasPath: (path) => this.#hasPath(path),
        hlsBase: () => this.media.httpBase('hls')!,
        webrtcBase: () => this.media.httpBase('webrtc'),
        reader: () => this.media.credentials.reader,
      },
      {
        principal: result.principal,
        queryToken:
          credentialOf(req) === undefined && sessionCookie(req.headers.cookie) === undefined
            ? query.get('token')
            : null,
      },
    );
  }

  #applyLive(config: Config): void {
    this.#setLogLevel?.(config.logging.level);
    this.files.reloaded();
    this.ws.setLimits(wsLimits(config));
    this.clients.setTrustedProxies(config.server.trusted_proxies);
    this.#apiServer.maxConnections = config.server.max_http_connections;
    this.#dispatcher.setMaxBatch(config.server.max_batch_requests);
    this.#access.setRateLimit(rateLimit(config));
    this.#throttle.configure(
      config.auth.failed_attempts.limit,
      config.auth.failed_attempts.window_seconds * 1000,
    );
  }
}
