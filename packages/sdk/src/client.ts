/**
 * The JSON-RPC client: one WebSocket, calls matched to replies by id, a timeout per call,
 * typed errors, and notification events. Every pending call is rejected when the
 * connection closes, so nothing waits forever.
 */
import { Emitter } from './emitter.js';
import { ConnectionError, RpcError, TimeoutError, describeClose } from './errors.js';
import type { MethodName, Methods, NotificationName, Notifications } from './generated/api.js';

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

export interface ClientOptions {
  /** ws://host:8002/ws or wss://... */
  url: string;
  /** Defaults to the global WebSocket (browsers, Node >= 22); the Node entry supplies `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Per-call timeout; default 10 s. */
  requestTimeoutMs?: number;
  /** Time allowed to open the connection; default 10 s. */
  connectTimeoutMs?: number;
  /** A JWT or API key: connect() authenticates with it before resolving. */
  authToken?: string;
}

export interface CallOptions {
  timeoutMs?: number;
}

export type ClientEvents = {
  open: [];
  close: [code: number, reason: string];
  /** Every server notification, by method name. */
  notification: [method: string, params: unknown];
} & { [N in NotificationName]: [params: Notifications[N]] };

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const OPEN = 1;

export class CameraServiceClient extends Emitter<ClientEvents> {
  readonly #options: Required<Omit<ClientOptions, 'WebSocket' | 'authToken'>> & {
    WebSocket: WebSocketConstructor | undefined;
  };
  #authToken: string | undefined;
  readonly #pending = new Map<number, Pending>();
  #socket: WebSocketLike | undefined;
  #nextId = 1;

  constructor(options: ClientOptions) {
    super();
    this.#options = {
      url: options.url,
      WebSocket:
        options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    };
    this.#authToken = options.authToken;
  }

  get connected(): boolean {
    return this.#socket?.readyState === OPEN;
  }

  /**
   * Opens the connection and, when the client has an auth token, authenticates with it.
   * Rejects with a ConnectionError (cannot connect) or an RpcError (-32001: the token
   * was refused), saying why.
   */
  async connect(): Promise<void> {
    await this.#open();
    if (this.#authToken === undefined) return;
    try {
      await this.authenticate(this.#authToken);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Authenticates this connection with a JWT or an API key; later calls act with its role. */
  authenticate(token: string, options?: CallOptions): Promise<Methods['authenticate']['result']> {
    this.#authToken = token;
    return this.call('authenticate', { auth_token: token }, options);
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
    const socket = new Ctor(url);
    this.#socket = socket;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (message: string, closeCode?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#socket = undefined;
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

  /** Closes the connection; pending calls are rejected. */
  close(): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.addEventListener('close', () => resolve());
      socket.close(1000, 'client closed');
    });
  }

  ping(options?: CallOptions): Promise<'pong'> {
    return this.call('ping', {}, options);
  }

  getServerInfo(options?: CallOptions): Promise<Methods['get_server_info']['result']> {
    return this.call('get_server_info', {}, options);
  }

  getStatus(options?: CallOptions): Promise<Methods['get_status']['result']> {
    return this.call('get_status', {}, options);
  }

  getMetrics(options?: CallOptions): Promise<Methods['get_metrics']['result']> {
    return this.call('get_metrics', {}, options);
  }

  getStreams(options?: CallOptions): Promise<Methods['get_streams']['result']> {
    return this.call('get_streams', {}, options);
  }

  getCameraList(options?: CallOptions): Promise<Methods['get_camera_list']['result']> {
    return this.call('get_camera_list', {}, options);
  }

  getCameraStatus(
    device: string,
    options?: CallOptions,
  ): Promise<Methods['get_camera_status']['result']> {
    return this.call('get_camera_status', { device }, options);
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
      pending.reject(
        new RpcError(
          pending.method,
          message.error as { code: number; message: string; data?: unknown },
        ),
      );
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
  }
}
