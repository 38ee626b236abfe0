/**
 * The two deadlines of an RTSP connection, as gortsplib applies MediaMTX's readTimeout
 * and writeTimeout:
 * - read: a connection must send something within `readTimeoutMs`, except while it is
 *   a reader playing over TCP (it may send nothing at all) and while the relay itself
 *   holds it (a request being answered, or reading paused because replies are unsent).
 * - write: unsent output must make progress: when the peer takes nothing of it for
 *   `writeTimeoutMs`, the connection is closed (checked every `writeTimeoutMs`, so a
 *   stalled peer is closed between one and two timeouts after it stopped reading).
 */
import type { Duplex } from 'node:stream';

export type GuardReason = 'read_timeout' | 'write_timeout';

export interface GuardOptions {
  readTimeoutMs: number;
  writeTimeoutMs: number;
  onTimeout: (reason: GuardReason) => void;
}

export class SocketGuard {
  readonly #socket: Duplex & { writableLength: number };
  readonly #options: GuardOptions;
  #lastRead = performance.now();
  #readTimer: NodeJS.Timeout | undefined;
  #exempt = false;
  #holds = 0;
  #writeTimer: NodeJS.Timeout | undefined;
  /** Every byte handed to the socket; minus writableLength, the bytes the peer has taken. */
  #queued = 0;
  #mark = 0;
  #stopped = false;

  constructor(socket: Duplex, options: GuardOptions) {
    this.#socket = socket as Duplex & { writableLength: number };
    this.#options = options;
    socket.on('drain', () => {
      if (this.#socket.writableLength === 0) this.#clearWrite();
    });
    this.#armRead();
  }

  /** Bytes arrived. */
  received(): void {
    this.#lastRead = performance.now();
  }

  /** A playing TCP reader need not send anything. */
  set exempt(value: boolean) {
    this.#exempt = value;
    this.#armRead();
  }

  /** The relay holds the connection (answering, or not reading): no read deadline. */
  hold(): void {
    this.#holds += 1;
    this.#armRead();
  }

  release(): void {
    this.#holds = Math.max(0, this.#holds - 1);
    this.#lastRead = performance.now();
    this.#armRead();
  }

  /** `bytes` were written to the socket. */
  wrote(bytes: number): void {
    this.#queued += bytes;
    if (this.#writeTimer || this.#stopped || this.#socket.writableLength === 0) return;
    this.#mark = this.#flushed();
    this.#writeTimer = setTimeout(() => this.#checkWrite(), this.#options.writeTimeoutMs);
    this.#writeTimer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
    this.#clearWrite();
  }

  #flushed(): number {
    return this.#queued - this.#socket.writableLength;
  }

  #checkWrite(): void {
    this.#writeTimer = undefined;
    if (this.#stopped || this.#socket.writableLength === 0) return;
    if (this.#flushed() === this.#mark) {
      this.#options.onTimeout('write_timeout');
      return;
    }
    this.#mark = this.#flushed();
    this.#writeTimer = setTimeout(() => this.#checkWrite(), this.#options.writeTimeoutMs);
    this.#writeTimer.unref();
  }

  #clearWrite(): void {
    clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
  }

  #armRead(): void {
    const active = !this.#stopped && !this.#exempt && this.#holds === 0;
    if (!active) {
      clearTimeout(this.#readTimer);
      this.#readTimer = undefined;
      return;
    }
    if (this.#readTimer) return;
    const wait = Math.max(0, this.#lastRead + this.#options.readTimeoutMs - performance.now());
    this.#readTimer = setTimeout(() => {
      this.#readTimer = undefined;
      if (this.#stopped || this.#exempt || this.#holds > 0) return;
      if (performance.now() - this.#lastRead >= this.#options.readTimeoutMs) {
        this.#options.onTimeout('read_timeout');
      } else {
        this.#armRead();
      }
    }, wait);
    this.#readTimer.unref();
  }
}
