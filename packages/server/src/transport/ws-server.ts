/**
 * The WebSocket endpoint: accepts connections on one path, hands each text message to the
 * JSON-RPC engine, and protects the process from its clients:
 *  - a connection cap (the next handshake gets HTTP 503 with a reason);
 *  - a message size cap (ws closes the connection with 1009 "message too big");
 *  - at most `maxInflight` unanswered requests per connection (reading pauses beyond it);
 *  - a send-buffer cap: a client that stops reading is dropped once its unsent data
 *    passes `maxSendBufferBytes`, so it cannot grow server memory without bound;
 *  - ping/pong keepalive: a peer that misses a ping interval is dropped.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../logging/index.js';
import { encodeNotification, type Principal, type RpcSession } from '../rpc/index.js';

/** How long a peer has to answer our close frame after a protocol violation. */
const CLOSE_GRACE_MS = 1000;

export interface WsLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxMessageBytes: number;
  maxInflight: number;
  maxSendBufferBytes: number;
  keepaliveIntervalMs: number;
}

export interface MessageHandler {
  handle(text: string, session: RpcSession): Promise<string | null>;
}

export type DropReason =
  | 'slow_consumer'
  | 'keepalive_timeout'
  | 'message_too_large'
  | 'connection_limit'
  | 'ip_connection_limit';

export interface WsServerEvents {
  open: [session: Session];
  close: [session: Session, code: number];
  drop: [reason: DropReason];
}

export interface WsServerOptions {
  path: string;
  limits: WsLimits;
  handler: MessageHandler;
  log: Logger;
  /** The clock (epoch ms) that decides whether a session's credential has expired. */
  now?: () => number;
}

export class Session implements RpcSession {
  readonly id = randomUUID().slice(0, 8);
  readonly connectedAt = Date.now();
  readonly log: Logger;
  principal: Principal | null = null;
  /** Seen a pong or a message since the last ping. */
  alive = true;
  inflight = 0;
  paused = false;

  constructor(
    readonly socket: WebSocket,
    readonly remoteAddress: string,
    readonly host: string | null,
    log: Logger,
  ) {
    this.log = log.child({ session: this.id, remote: remoteAddress });
  }
}

export class WsServer extends EventEmitter<WsServerEvents> {
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<Session>();
  readonly #path: string;
  readonly #handler: MessageHandler;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Open connections per remote address, for the per-address cap. */
  readonly #perIp = new Map<string, number>();
  #limits: WsLimits;
  #keepalive: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(options: WsServerOptions) {
    super();
    this.#path = options.path;
    this.#handler = options.handler;
    this.#log = options.log;
    this.#limits = { ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.#startKeepalive();
  }

  get size(): number {
    return this.#sessions.size;
  }

  get limits(): Readonly<WsLimits> {
    return this.#limits;
  }

  sessions(): ReadonlySet<Session> {
    return this.#sessions;
  }

  /** Applies new limits; the message size cap applies to connections made after it. */
  setLimits(limits: WsLimits): void {
    const keepaliveChanged = limits.keepaliveIntervalMs !== this.#limits.keepaliveIntervalMs;
    this.#limits = { ...limits };
    this.#wss.options.maxPayload = limits.maxMessageBytes;
    if (keepaliveChanged && !this.#closing) this.#startKeepalive();
  }

  /** For the HTTP server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== this.#path) {
      rejectUpgrade(socket, 404, 'Not Found', {
        error: `There is no WebSocket endpoint at ${pathname}; connect to ${this.#path}.`,
      });
      return;
    }
    if (this.#closing) {
      rejectUpgrade(socket, 503, 'Service Unavailable', {
        error: 'The server is shutting down; reconnect shortly.',
      });
      return;
    }
    if (this.#sessions.size >= this.#limits.maxConnections) {
      this.emit('drop', 'connection_limit');
      this.#log.warn(
        { limit: this.#limits.maxConnections, remote: req.socket.remoteAddress },
        'connection refused: limit reached',
      );
      rejectUpgrade(
        socket,
        503,
        'Service Unavailable',
        {
          error: `The server is at its limit of ${this.#limits.maxConnections} connections; try again later.`,
        },
        { 'Retry-After': '5' },
      );
      return;
    }
    const remote = req.socket.remoteAddress ?? 'unknown';
    const perIp = this.#limits.maxConnectionsPerIp;
    if ((this.#perIp.get(remote) ?? 0) >= perIp) {
      this.emit('drop', 'ip_connection_limit');
      this.#log.warn({ limit: perIp, remote }, 'connection refused: per-address limit reached');
      rejectUpgrade(
        socket,
        429,
        'Too Many Requests',
        {
          error: `This address already has ${perIp} connections open, the most allowed; close one first.`,
        },
        { 'Retry-After': '5' },
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  /** Sends a text frame unless the client has stopped reading, in which case it is dropped. */
  send(session: Session, text: string): boolean {
    const ws = session.socket;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#limits.maxSendBufferBytes) {
      this.#drop(session, 'slow_consumer', { buffered_bytes: ws.bufferedAmount });
      return false;
    }
    ws.send(text);
    return true;
  }

  /** Whether a session holds a credential that has not expired. */
  isAuthenticated(session: Session): boolean {
    const principal = session.principal;
    return (
      principal !== null && (principal.expiresAt === null || principal.expiresAt > this.#now())
    );
  }

  /** Sends a notification to every session the filter accepts (by default: authenticated ones). */
  /**
   * Like broadcast, with params that depend on the session: encoded once per distinct
   * `key(session)` (e.g. the host a client connected with, for stream URLs).
   */
  broadcastEach(
    method: string,
    params: (session: Session) => unknown,
    key: (session: Session) => string,
    filter: (s: Session) => boolean = (s) => this.isAuthenticated(s),
  ): number {
    const texts = new Map<string, string>();
    let sent = 0;
    for (const session of this.#sessions) {
      if (!filter(session)) continue;
      const k = key(session);
      let text = texts.get(k);
      if (text === undefined) {
        text = encodeNotification(method, params(session));
        texts.set(k, text);
      }
      if (this.send(session, text)) sent += 1;
    }
    return sent;
  }

  broadcast(
    method: string,
    params: unknown,
    filter: (s: Session) => boolean = (s) => this.isAuthenticated(s),
  ): number {
    const text = encodeNotification(method, params);
    let sent = 0;
    for (const session of this.#sessions) {
      if (filter(session) && this.send(session, text)) sent += 1;
    }
    return sent;
  }

  /** Refuses new connections, sends every client a close frame, and waits up to `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#keepalive);
    if (this.#sessions.size > 0) {
      const allClosed = new Promise<void>((resolve) => {
        const check = () => {
          if (this.#sessions.size === 0) {
            this.off('close', check);
            resolve();
          }
        };
        this.on('close', check);
      });
      for (const session of this.#sessions) session.socket.close(1001, 'server shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([allClosed, timedOut]);
      clearTimeout(timer);
      for (const session of this.#sessions) session.socket.terminate();
    }
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = req.socket.remoteAddress ?? 'unknown';
    if (this.#closing || this.#sessions.size >= this.#limits.maxConnections) {
      ws.close(1013, 'connection limit reached, try again later');
      return;
    }
    const session = new Session(ws, remote, hostOf(req.headers.host), this.#log);
    this.#sessions.add(session);
    this.#perIp.set(remote, (this.#perIp.get(remote) ?? 0) + 1);
    session.log.info({ connections: this.#sessions.size }, 'client connected');
    ws.on('message', (data, isBinary) => this.#onMessage(session, data, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.emit('drop', 'message_too_large');
        session.log.warn(
          { limit: this.#limits.maxMessageBytes },
          'message too large: connection closed with 1009',
        );
        // ws has sent the 1009 close frame; a peer that does not answer it within the grace
        // period is cut instead of holding the socket for ws's 30 s close timeout.
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      } else {
        session.log.warn({ err: error }, 'connection error');
      }
    });
    ws.on('close', (code) => {
      this.#sessions.delete(session);
      const left = (this.#perIp.get(remote) ?? 1) - 1;
      if (left > 0) this.#perIp.set(remote, left);
      else this.#perIp.delete(remote);
      session.log.info({ code, connections: this.#sessions.size }, 'client disconnected');
      this.emit('close', session, code);
    });
    this.emit('open', session);
  }

  #onMessage(session: Session, data: RawData, _isBinary: boolean): void {
    session.alive = true;
    session.inflight += 1;
    if (session.inflight >= this.#limits.maxInflight && !session.paused) {
      session.paused = true;
      session.socket.pause();
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    this.#handler
      .handle(text, session)
      .then(
        (reply) => {
          if (reply !== null) this.send(session, reply);
        },
        (error: unknown) => session.log.error({ err: error }, 'message handling failed'),
      )
      .finally(() => {
        session.inflight -= 1;
        if (session.paused && session.inflight < this.#limits.maxInflight) {
          session.paused = false;
          session.socket.resume();
        }
      });
  }

  #drop(session: Session, reason: DropReason, detail: Record<string, unknown> = {}): void {
    session.log.warn({ reason, ...detail }, 'client dropped');
    this.emit('drop', reason);
    session.socket.terminate();
  }

  #startKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = setInterval(() => {
      for (const session of this.#sessions) {
        if (!session.alive) {
          this.#drop(session, 'keepalive_timeout');
          continue;
        }
        session.alive = false;
        session.socket.ping();
      }
    }, this.#limits.keepaliveIntervalMs);
    this.#keepalive.unref();
  }
}

function rejectUpgrade(
  socket: Duplex,
  status: number,
  statusText: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`,
  );
}

/**
 * The host part of a Host header ("box.local:8002" → "box.local", "[fe80::1]:8002" →
 * "fe80::1"), or null when it is absent or not a plain host name or address: it ends up
 * in URLs given back to the client, so nothing else gets through.
 */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::[0-9]{1,5})?$/.exec(header.trim());
  if (!match) return null;
  return match[1] ?? match[2] ?? null;
}
