/**
 * The JSON-RPC client: one WebSocket, calls matched to replies by id, a timeout per call,
 * typed errors, and notification events. Every call in flight is rejected when the
 * connection closes, so nothing waits forever.
 *
 * After a successful connect(), a connection that drops is reopened with exponential
 * backoff and jitter, and authenticated again with the same credential; notifications
 * resume once it is (the server sends them to every authenticated connection). Calls
 * made meanwhile wait for the connection (bounded by their timeout) or fail at once, by
 * option. close() ends the client: it never reconnects after it. A JWT whose expiry
 * passes emits `authExpired` (at its `expires_at`, and when the server refuses it).
 */
import {
  blobSink,
  downloadFile,
  type DownloadOptions,
  type DownloadResult,
  type DownloadSink,
  type FileKind,
} from './download.js';
import { ConnectionError, DownloadError, RpcError, TimeoutError, describeClose } from './errors.js';
import type {
  AuthenticateParams,
  AuthenticateResult,
  GetCameraStatusParams,
  GetCameraStatusResult,
  MethodName,
  Methods,
  NotificationName,
  Notifications,
} from './generated/api.js';
import { GeneratedMethods, type CallOptions } from './generated/methods.js';

/** The part of the WebSocket API the client uses (browsers' WebSocket and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ReconnectOptions {
  /** The first retry's delay; default 250 ms. */
  initialDelayMs?: number;
  /** The longest delay between attempts; default 2 s (a restarted service is reached within 2 s). */
  maxDelayMs?: number;
  /** Each attempt's delay is the previous one times this; default 2. */
  factor?: number;
  /** Up to this fraction of each delay is taken off at random (0..1); default 0.5. */
  jitter?: number;
  /** Attempts before giving up (then `disconnected` is final); default unlimited. */
  maxAttempts?: number;
  /**
   * Node: whether the waits between attempts keep the process alive by themselves
   * (default false, like an idle timer: a process with nothing else to do may exit while
   * its client waits to reconnect). A script that only listens to notifications sets it.
   */
  keepAlive?: boolean;
}

export interface ClientOptions {
  /** ws://host:8002/ws or wss://... */
  url: string;
  /** Defaults to the global WebSocket (browsers, Node >= 22); the Node entry supplies `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Per-call timeout; default 10 s. */
  requestTimeoutMs?: number;
  /** Time allowed to open the connection; default 10 s. */
  connectTimeoutMs?: number;
  /** A JWT or API key: connect() authenticates with it before resolving (and every reconnect). */
  authToken?: string;
  /** Reopen a dropped connection (default: yes, with the default backoff); false: never. */
  reconnect?: boolean | ReconnectOptions;
  /**
   * What a call made while the connection is being reopened does: `wait` (default) for it,
   * up to the call's timeout; `fail` at once with a ConnectionError.
   */
  whileReconnecting?: 'wait' | 'fail';
  /** Calls that may wait for a reconnect at once; more fail at once. Default 1000. */
  maxQueuedCalls?: number;
}

export type { CallOptions };

/** Where the client is: `reconnecting` covers the backoff waits and the attempts. */
export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export type ClientEvents = {
  /** The WebSocket opened (before authentication). */
  open: [];
  /** The WebSocket closed. */
  close: [code: number, reason: string];
  /** Open and authenticated: after connect(), and after each successful reconnect. */
  connected: [info: { reconnected: boolean; attempts: number }];
  /** A connected client lost its connection; `willReconnect` says whether it tries again. */
  disconnected: [info: { code: number; reason: string; willReconnect: boolean }];
  /** A reconnect attempt is scheduled in `delayMs`. */
  reconnecting: [info: { attempt: number; delayMs: number }];
  /** The JWT expired: call authenticate() with a new one (a reconnect cannot succeed without it). */
  authExpired: [info: { expiresAt: string | null; error: RpcError | null }];
  /** Every server notification, by method name. */
  notification: [method: string, params: unknown];
} & { [N in NotificationName]: [params: Notifications[N]] };

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queued {
  method: string;
  params: unknown;
  options: CallOptions;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  deadline: number;
}

const OPEN = 1;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2_147_483_647;

type Timer = ReturnType<typeof setTimeout>;

/** Timers that must not keep a Node process alive on their own (no-op in browsers). */
function unref(timer: Timer): Timer {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

export class CameraServiceClient extends GeneratedMethods<ClientEvents> {
  readonly #options: {
    url: string;
    WebSocket: WebSocketConstructor | undefined;
    requestTimeoutMs: number;
    connectTimeoutMs: number;
    reconnect: Required<ReconnectOptions> | null;
    whileReconnecting: 'wait' | 'fail';
    maxQueuedCalls: number;
  };
  #authToken: string | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #queue = new Set<Queued>();
  #socket: WebSocketLike | undefined;
  #nextId = 1;
  #state: ClientState = 'idle';
  #reconnectTimer: Timer | undefined;
  #expiryTimer: Timer | undefined;
  #expiredNotified = false;
  #expiresAt: string | null = null;

  constructor(options: ClientOptions) {
    super();
    const reconnect =
      options.reconnect === false
        ? null
        : {
            initialDelayMs: 250,
            maxDelayMs: 2_000,
            factor: 2,
            jitter: 0.5,
            maxAttempts: Number.POSITIVE_INFINITY,
            keepAlive: false,
            ...(typeof options.reconnect === 'object' ? options.reconnect : {}),
          };
    this.#options = {
      url: options.url,
      WebSocket:
        options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      reconnect,
      whileReconnecting: options.whileReconnecting ?? 'wait',
      maxQueuedCalls: options.maxQueuedCalls ?? 1000,
    };
    this.#authToken = options.authToken;
  }

  /** Whether the WebSocket is open now. */
  get connected(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The ws:// URL this client connects to. */
  get url(): string {
    return this.#options.url;
  }

  /**
   * Opens the connection and, when the client has an auth token, authenticates with it.
   * Rejects with a ConnectionError (cannot connect) or an RpcError (-32001: the token
   * was refused), saying why. Reconnection starts only once this has succeeded.
   */
  async connect(): Promise<void> {
    if (this.#state === 'closed') {
      throw new ConnectionError('The client was closed: create a new one to connect again.');
    }
    this.#state = 'connecting';
    try {
      await this.#open();
      if (this.#authToken !== undefined) await this.#authenticate(this.#authToken);
    } catch (error) {
      this.#state = 'idle';
      const socket = this.#socket;
      if (socket) await this.#closeSocket(socket);
      throw error;
    }
    this.#state = 'connected';
    this.emit('connected', { reconnected: false, attempts: 0 });
  }

  /**
   * Authenticates this connection with a JWT or an API key; later calls act with its role,
   * and reconnects authenticate with it.
   */
  override authenticate(
    token: string | AuthenticateParams,
    options?: CallOptions,
  ): Promise<AuthenticateResult> {
    const text = typeof token === 'string' ? token : token.auth_token;
    this.#authToken = text;
    return this.#authenticate(text, options);
  }

  async #authenticate(token: string, options?: CallOptions): Promise<AuthenticateResult> {
    const result = (await this.#send(
      'authenticate',
      { auth_token: token },
      options,
    )) as AuthenticateResult;
    this.#watchExpiry(result.expires_at ?? null);
    return result;
  }

  /** Emits authExpired when the credential's expiry passes (JWTs; API keys have none). */
  #watchExpiry(expiresAt: string | null): void {
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#expiredNotified = false;
    this.#expiresAt = expiresAt;
    if (expiresAt === null) return;
    const ms = Date.parse(expiresAt) - Date.now();
    if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) return;
    this.#expiryTimer = unref(setTimeout(() => this.#expired(null), Math.max(0, ms)));
  }

  #expired(error: RpcError | null): void {
    if (this.#expiredNotified) return;
    this.#expiredNotified = true;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.emit('authExpired', { expiresAt: this.#expiresAt, error });
  }

  #open(): Promise<void> {
    const Ctor = this.#options.WebSocket;
    if (!Ctor) {
      return Promise.reject(
        new ConnectionError(
          'No WebSocket implementation: pass options.WebSocket (in Node, import the SDK from its Node entry).',
        ),
      );
    }
    if (this.#socket)
      return Promise.reject(new ConnectionError('The client is already connected or connecting.'));
    const { url, connectTimeoutMs } = this.#options;
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (error) {
      return Promise.reject(
        new ConnectionError(`Cannot connect to ${url}: ${(error as Error).message}.`),
      );
    }
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (message: string, closeCode?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.#socket === socket) this.#socket = undefined;
        reject(new ConnectionError(`Cannot connect to ${url}: ${message}.`, closeCode));
      };
      const timer = setTimeout(() => {
        fail(`no answer within ${connectTimeoutMs} ms`);
        socket.close();
      }, connectTimeoutMs);
      socket.addEventListener('open', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.emit('open');
        resolve();
      });
      socket.addEventListener('error', (event) => fail(event.message ?? 'the connection failed'));
      socket.addEventListener('message', (event) => this.#onMessage(event.data));
      socket.addEventListener('close', (event) => {
        fail(describeClose(event.code, event.reason), event.code);
        this.#onClose(socket, event.code, event.reason);
      });
    });
  }

  /** Calls a method and resolves with its result, or rejects with an RpcError, TimeoutError or ConnectionError. */
  call<M extends MethodName>(
    method: M,
    params?: Methods[M]['params'],
    options?: CallOptions,
  ): Promise<Methods[M]['result']> {
    return this.request(method, params, options) as Promise<Methods[M]['result']>;
  }

  /** An untyped call, for methods this SDK version does not know. */
  request(method: string, params?: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.#state === 'closed') {
      return Promise.reject(new ConnectionError(`Cannot call ${method}: the client was closed.`));
    }
    if (this.#state === 'reconnecting') {
      return this.#enqueue(method, params, options);
    }
    return this.#send(method, params, options);
  }

  /** A call made while reconnecting: waits for the connection, or fails at once. */
  #enqueue(method: string, params: unknown, options: CallOptions): Promise<unknown> {
    if (this.#options.whileReconnecting === 'fail') {
      return Promise.reject(
        new ConnectionError(
          `Cannot call ${method}: the connection is being reopened (whileReconnecting: 'fail').`,
        ),
      );
    }
    if (this.#queue.size >= this.#options.maxQueuedCalls) {
      return Promise.reject(
        new ConnectionError(
          `Cannot call ${method}: ${this.#queue.size} calls already wait for the connection to reopen.`,
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const entry: Queued = {
        method,
        params,
        options,
        resolve,
        reject,
        deadline: Date.now() + timeoutMs,
        timer: setTimeout(() => {
          this.#queue.delete(entry);
          reject(new TimeoutError(method, timeoutMs, 'while the connection was being reopened'));
        }, timeoutMs),
      };
      this.#queue.add(entry);
    });
  }

  /** Sends the queued calls once reconnected, each with the time it has left. */
  #flushQueue(): void {
    for (const entry of [...this.#queue]) {
      this.#queue.delete(entry);
      clearTimeout(entry.timer);
      const left = Math.max(1, entry.deadline - Date.now());
      this.#send(entry.method, entry.params, { ...entry.options, timeoutMs: left }).then(
        entry.resolve,
        entry.reject,
      );
    }
  }

  #rejectQueue(error: (method: string) => Error): void {
    for (const entry of [...this.#queue]) {
      this.#queue.delete(entry);
      clearTimeout(entry.timer);
      entry.reject(error(entry.method));
    }
  }

  #send(method: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      return Promise.reject(
        new ConnectionError(`Cannot call ${method}: the client is not connected.`),
      );
    }
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new TimeoutError(method, timeoutMs));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve, reject, timer });
      const message: Record<string, unknown> = { jsonrpc: '2.0', id, method };
      if (params !== undefined) message.params = params;
      socket.send(JSON.stringify(message));
    });
  }

  /** Sends a JSON-RPC notification: no id, no reply. */
  notify(method: string, params?: unknown): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) {
      throw new ConnectionError(`Cannot send ${method}: the client is not connected.`);
    }
    socket.send(
      JSON.stringify(
        params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params },
      ),
    );
  }

  /** Closes the connection for good: calls in flight or waiting are rejected, no reconnect. */
  close(): Promise<void> {
    this.#state = 'closed';
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#reconnectTimer = undefined;
    this.#expiryTimer = undefined;
    this.#rejectQueue((method) => new ConnectionError(`${method} failed: the client was closed.`));
    const socket = this.#socket;
    if (!socket) return Promise.resolve();
    return this.#closeSocket(socket);
  }

  #closeSocket(socket: WebSocketLike): Promise<void> {
    return new Promise((resolve) => {
      if (socket.readyState === 3) {
        resolve();
        return;
      }
      socket.addEventListener('close', () => resolve());
      socket.close(1000, 'client closed');
    });
  }

  /** Compatible with earlier versions: a device path or the params. */
  override getCameraStatus(
    params: string | GetCameraStatusParams,
    options?: CallOptions,
  ): Promise<GetCameraStatusResult> {
    return this.call(
      'get_camera_status',
      typeof params === 'string' ? { device: params } : params,
      options,
    );
  }

  /**
   * Downloads a recording or a snapshot over HTTP (GET /files/<kind>/<name> on the API
   * port), with this client's credential. In browsers it resolves with a Blob; the Node
   * entry also writes to a file (`to`). A dropped connection resumes with Range/If-Range;
   * the final size is checked.
   */
  downloadFile(
    kind: FileKind,
    name: string,
    options: DownloadOptions = {},
  ): Promise<DownloadResult> {
    let sink: (type: () => string | null) => DownloadSink;
    try {
      sink = this.downloadSink(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return downloadFile(this.#options.url, this.#authToken, kind, name, options, sink);
  }

  /** Where a download's bytes go: a Blob here; the Node entry adds files (`to`). */
  protected downloadSink(options: DownloadOptions): (type: () => string | null) => DownloadSink {
    if (options.to !== undefined) {
      throw new DownloadError(
        'downloadFile({ to }) writes files in Node only: use the Node entry, or take the Blob.',
        'http_error',
      );
    }
    return blobSink;
  }

  #onMessage(data: unknown): void {
    let message: unknown;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    for (const item of Array.isArray(message) ? message : [message]) this.#dispatch(item);
  }

  #dispatch(item: unknown): void {
    if (typeof item !== 'object' || item === null) return;
    const message = item as {
      id?: unknown;
      method?: unknown;
      params?: unknown;
      result?: unknown;
      error?: unknown;
    };
    if (typeof message.method === 'string' && message.id === undefined) {
      this.emit('notification', message.method, message.params);
      (this.emit as (event: string, params: unknown) => void)(message.method, message.params);
      return;
    }
    if (typeof message.id !== 'number') return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error && typeof message.error === 'object') {
      const error = new RpcError(
        pending.method,
        message.error as { code: number; message: string; data?: unknown },
      );
      if (
        error.kind === 'authentication_failed' &&
        (error.data as { reason?: unknown } | undefined)?.reason === 'token_expired'
      ) {
        this.#expired(error);
      }
      pending.reject(error);
    } else {
      pending.resolve(message.result);
    }
  }

  #onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (this.#socket === socket) this.#socket = undefined;
    const why = describeClose(code, reason);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionError(`${pending.method} failed: ${why}.`, code));
      this.#pending.delete(id);
    }
    this.emit('close', code, reason);
    if (this.#state !== 'connected') return;
    const willReconnect = this.#options.reconnect !== null;
    this.#state = willReconnect ? 'reconnecting' : 'idle';
    this.emit('disconnected', { code, reason, willReconnect });
    if (willReconnect) this.#scheduleReconnect(1);
  }

  #scheduleReconnect(attempt: number): void {
    const policy = this.#options.reconnect!;
    if (attempt > policy.maxAttempts) {
      this.#giveUp(`no reconnect succeeded in ${policy.maxAttempts} attempts`);
      return;
    }
    const base = Math.min(
      policy.maxDelayMs,
      policy.initialDelayMs * policy.factor ** (attempt - 1),
    );
    const delayMs = Math.round(base * (1 - policy.jitter * Math.random()));
    this.emit('reconnecting', { attempt, delayMs });
    const timer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attempt(attempt);
    }, delayMs);
    this.#reconnectTimer = policy.keepAlive ? timer : unref(timer);
  }

  async #attempt(attempt: number): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    try {
      await this.#open();
      if (this.#authToken !== undefined) await this.#authenticate(this.#authToken);
    } catch (error) {
      if (this.#state !== 'reconnecting') return;
      const socket = this.#socket;
      if (error instanceof RpcError && error.kind === 'authentication_failed') {
        // The credential is refused: retrying with it cannot succeed.
        const expired =
          (error.data as { reason?: unknown } | undefined)?.reason === 'token_expired';
        if (expired) this.#expired(error);
        this.#giveUp(error.message, error);
        if (socket) void this.#closeSocket(socket);
        return;
      }
      if (socket) await this.#closeSocket(socket);
      if (this.#state === 'reconnecting') this.#scheduleReconnect(attempt + 1);
      return;
    }
    if (this.#state !== 'reconnecting') return;
    this.#state = 'connected';
    this.emit('connected', { reconnected: true, attempts: attempt });
    this.#flushQueue();
  }

  #giveUp(why: string, error?: Error): void {
    this.#state = 'idle';
    this.#rejectQueue(
      (method) =>
        error ?? new ConnectionError(`${method} failed: the connection was lost and ${why}.`),
    );
    this.emit('disconnected', { code: 1006, reason: why, willReconnect: false });
  }
}
