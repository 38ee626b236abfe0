/**
 * The WebSocket endpoint: accepts connections on one path, hands each text message to the
 * JSON-RPC engine, and protects the process from its clients:
 *  - a connection cap (the next handshake gets HTTP 503 with a reason) and a cap per
 *    client address (HTTP 429);
 *  - an authentication deadline: a connection that has not authenticated within
 *    `authTimeoutMs` is closed (1008);
 *  - a share of the cap for connections not yet authenticated: a newcomer beyond
 *    `maxUnauthenticated` (or at the cap) closes the oldest of them, so anonymous
 *    connections never lock out a client with a credential;
 *  - a message size cap (ws closes the connection with 1009 "message too big");
 *  - at most `maxInflight` unanswered requests per connection (reading pauses beyond it);
 *  - a send-buffer cap: a client that stops reading is dropped once its unsent data
 *    passes `maxSendBufferBytes`, so it cannot grow server memory without bound;
 *  - ping/pong keepalive: a peer that misses a ping interval is dropped; a peer that
 *    floods pings is dropped too.
 * Nothing a client sends can throw out of here: a malformed upgrade target is a 400.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../logging/index.js';
import { encodeNotification, type Principal, type RpcSession } from '../rpc/index.js';
import { ClientResolver, type ClientInfo } from './client.js';
import { rejectSocket } from './listen.js';
import { LogThrottle } from './log-throttle.js';
import { targetPath } from './request-target.js';

/** How long a peer has to answer our close frame after a protocol violation. */
const CLOSE_GRACE_MS = 1000;
/** Pings a peer may send per keepalive interval; a peer sending more is flooding. */
const MAX_PINGS_PER_INTERVAL = 50;

export interface WsLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Connections not yet authenticated that may be open at once. */
  maxUnauthenticated: number;
  /** A connection must authenticate within this, or it is closed. */
  authTimeoutMs: number;
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
  | 'ip_connection_limit'
  | 'auth_timeout'
  | 'unauthenticated_evicted'
  | 'ping_flood'
  | 'bad_request';

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
  /** Who a handshake comes from (trusted proxies); default: the socket and Host header. */
  clients?: ClientResolver;
  /**
   * Decides on a handshake before it is accepted: a principal starts the connection
   * authenticated (a dashboard session cookie), `tag` names what it came from (so
   * `closeTagged` ends those connections when the session ends), a refusal answers the
   * handshake with its status; null changes nothing.
   */
  preauthenticate?: (
    req: IncomingMessage,
  ) => { principal: Principal; tag: string } | { refuse: 403; message: string } | null;
}

export class Session implements RpcSession {
  readonly id = randomUUID().slice(0, 8);
  readonly connectedAt = Date.now();
  readonly log: Logger;
  readonly remoteAddress: string;
  readonly host: string | null;
  /** Whether the client reached the service over TLS (itself or through its proxy). */
  readonly secure: boolean;
  principal: Principal | null = null;
  /** What authenticated it at the handshake (a dashboard session), if anything did. */
  tag: string | null = null;
  /** Seen a pong or a message since the last ping. */
  alive = true;
  inflight = 0;
  paused = false;
  /** Pings received in this keepalive interval. */
  pings = 0;
  /** Being closed by the server: no longer counted against the caps. */
  closing = false;
  authTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: WebSocket,
    client: ClientInfo,
    log: Logger,
  ) {
    this.remoteAddress = client.address;
    this.host = client.host;
    this.secure = client.secure;
    this.log = log.child({ session: this.id, remote: client.address });
  }
}

export class WsServer extends EventEmitter<WsServerEvents> {
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<Session>();
  readonly #path: string;
  readonly #handler: MessageHandler;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #clients: ClientResolver;
  readonly #preauthenticate: WsServerOptions['preauthenticate'];
  /** Refusals are logged once a second at most, whatever rate they come at. */
  readonly #refusals = new LogThrottle();
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
    this.#clients = options.clients ?? new ClientResolver();
    this.#preauthenticate = options.preauthenticate;
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

  /** For the HTTP server's 'upgrade' event. Never throws: a bad handshake is answered and closed. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      this.#upgrade(req, socket, head);
    } catch (error) {
      this.#log.error({ err: error }, 'WebSocket handshake failed');
      rejectSocket(socket, 500, 'Internal Server Error', {
        error: 'The WebSocket handshake failed inside the service; try again.',
      });
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const pathname = targetPath(req.url);
    if (pathname === null) {
      this.emit('drop', 'bad_request');
      rejectSocket(socket, 400, 'Bad Request', {
        error: `The request target is not a path; connect to ${this.#path}.`,
      });
      return;
    }
    if (pathname !== this.#path) {
      rejectSocket(socket, 404, 'Not Found', {
        error: `There is no WebSocket endpoint at this path; connect to ${this.#path}.`,
      });
      return;
    }
    if (this.#closing) {
      rejectSocket(socket, 503, 'Service Unavailable', {
        error: 'The server is shutting down; reconnect shortly.',
      });
      return;
    }
    const client = this.#clients.resolve(req);
    const remote = client.address;
    // Room for one more: at the cap, or at the share of the unauthenticated, the oldest
    // connection without a credential makes way; connections with one never do.
    const live = this.#live();
    const anonymous = live.filter((s) => !this.isAuthenticated(s));
    const { maxConnections, maxUnauthenticated } = this.#limits;
    if (live.length >= maxConnections || anonymous.length >= maxUnauthenticated) {
      const oldest = anonymous[0];
      if (!oldest) {
        this.emit('drop', 'connection_limit');
        this.#logRefusal(
          'connection_limit',
          { limit: maxConnections, remote },
          'connection refused: limit reached',
        );
        rejectSocket(
          socket,
          503,
          'Service Unavailable',
          {
            error: `The server is at its limit of ${maxConnections} connections; try again later.`,
          },
          { 'Retry-After': '5' },
        );
        return;
      }
      this.#evict(oldest, live.length >= maxConnections ? maxConnections : maxUnauthenticated);
    }
    const perIp = this.#limits.maxConnectionsPerIp;
    if ((this.#perIp.get(remote) ?? 0) >= perIp) {
      this.emit('drop', 'ip_connection_limit');
      this.#logRefusal(
        'ip_connection_limit',
        { limit: perIp, remote },
        'connection refused: per-address limit reached',
      );
      rejectSocket(
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
    const pre = this.#preauthenticate?.(req) ?? null;
    if (pre && 'refuse' in pre) {
      this.#logRefusal(
        'bad_request',
        { remote },
        'connection refused: foreign Origin with a session cookie',
      );
      rejectSocket(socket, pre.refuse, 'Forbidden', { error: pre.message });
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, client, pre));
  }

  /** Closes the connections authenticated at their handshake by `tag` (a session that ended). */
  closeTagged(tag: string, reason: string): void {
    for (const session of this.#sessions) {
      if (session.tag !== tag || session.closing) continue;
      session.principal = null;
      session.closing = true;
      session.socket.close(4401, reason.slice(0, 120));
      setTimeout(() => session.socket.terminate(), CLOSE_GRACE_MS).unref();
    }
  }

  #logRefusal(reason: DropReason, fields: Record<string, unknown>, message: string): void {
    const { log, suppressed } = this.#refusals.take(reason);
    if (log) this.#log.warn({ reason, ...fields, ...(suppressed > 0 && { suppressed }) }, message);
  }

  /** Sessions not being closed by the server: what counts against the caps. */
  #live(): Session[] {
    const live: Session[] = [];
    for (const session of this.#sessions) if (!session.closing) live.push(session);
    return live;
  }

  /** Closes a session that has not authenticated, to make room for a newcomer. */
  #evict(session: Session, limit: number): void {
    this.#closeSession(
      session,
      'unauthenticated_evicted',
      'too many unauthenticated connections: authenticate right after connecting',
      { limit },
    );
  }

  /** Closes with 1008 and a reason, cutting the socket if the peer does not answer in time. */
  #closeSession(
    session: Session,
    reason: DropReason,
    text: string,
    detail: Record<string, unknown> = {},
  ): void {
    if (session.closing) return;
    session.closing = true;
    clearTimeout(session.authTimer);
    const { log, suppressed } = this.#refusals.take(reason);
    if (log)
      session.log.warn(
        { reason, ...detail, ...(suppressed > 0 && { suppressed }) },
        'client closed',
      );
    this.emit('drop', reason);
    session.socket.close(1008, text.slice(0, 120));
    setTimeout(() => session.socket.terminate(), CLOSE_GRACE_MS).unref();
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

  #accept(
    ws: WebSocket,
    client: ClientInfo,
    pre: { principal: Principal; tag: string } | null = null,
  ): void {
    const remote = client.address;
    if (this.#closing || this.#live().length >= this.#limits.maxConnections) {
      ws.close(1013, 'connection limit reached, try again later');
      return;
    }
    const session = new Session(ws, client, this.#log);
    if (pre) {
      session.principal = pre.principal;
      session.tag = pre.tag;
    }
    this.#sessions.add(session);
    this.#perIp.set(remote, (this.#perIp.get(remote) ?? 0) + 1);
    session.log.info(
      {
        connections: this.#sessions.size,
        ...(pre && { role: pre.principal.role, via: 'session_cookie' }),
      },
      'client connected',
    );
    const deadline = this.#limits.authTimeoutMs;
    session.authTimer = setTimeout(() => {
      if (session.principal !== null) return;
      this.#closeSession(
        session,
        'auth_timeout',
        'authentication timeout: call authenticate right after connecting',
        { after_ms: deadline },
      );
    }, deadline);
    session.authTimer.unref();
    ws.on('ping', () => {
      session.pings += 1;
      if (session.pings > MAX_PINGS_PER_INTERVAL) {
        this.#drop(session, 'ping_flood', { pings: session.pings });
      } else if (ws.bufferedAmount > this.#limits.maxSendBufferBytes) {
        // Pongs it does not read pile up like any other unread data.
        this.#drop(session, 'slow_consumer', { buffered_bytes: ws.bufferedAmount });
      }
    });
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
      clearTimeout(session.authTimer);
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
    if (session.closing && reason !== 'keepalive_timeout') return;
    session.closing = true;
    session.log.warn({ reason, ...detail }, 'client dropped');
    this.emit('drop', reason);
    session.socket.terminate();
  }

  #startKeepalive(): void {
    clearInterval(this.#keepalive);
    this.#keepalive = setInterval(() => {
      for (const session of this.#sessions) {
        session.pings = 0;
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
