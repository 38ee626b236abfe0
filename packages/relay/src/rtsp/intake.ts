/**
 * What a connection reads, with bounded read-ahead: requests are decoded a few at a time
 * and answered strictly in order (even when one has to wait, as for an on-demand start);
 * interleaved frames are handed on at once. While `MAX_PENDING_REQUESTS` wait, or more
 * than `MAX_UNSENT_BYTES` of output is unsent (the peer is not reading its replies), the
 * socket is paused: the kernel's buffers then push back on the client, so pipelining
 * megabytes of requests without reading costs the relay a bounded amount of memory.
 */
import type { Duplex } from 'node:stream';
import type { SocketGuard } from './guard.js';
import { RtspDecoder, RtspParseError, type InterleavedFrame, type RtspRequest } from './message.js';

/** Requests read ahead of their answers before the connection stops reading. */
export const MAX_PENDING_REQUESTS = 16;
/** Unsent bytes past which the connection stops reading. */
export const MAX_UNSENT_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export interface IntakeHandlers {
  frame(frame: InterleavedFrame): void;
  request(request: RtspRequest): Promise<void>;
  /** The input is malformed: answer `status` and close. */
  malformed(status: number): void;
  /** An exception while handling a request. */
  failed(error: unknown): void;
}

export class RequestIntake {
  readonly #socket: Duplex & { writableLength: number };
  readonly #guard: SocketGuard;
  readonly #handlers: IntakeHandlers;
  readonly #decoder = new RtspDecoder();
  readonly #pending: RtspRequest[] = [];
  #pumping = false;
  /** The decoder may hold complete requests not taken yet. */
  #decoderFull = false;
  #paused = false;
  #stopped = false;

  constructor(socket: Duplex, guard: SocketGuard, handlers: IntakeHandlers) {
    this.#socket = socket as Duplex & { writableLength: number };
    this.#guard = guard;
    this.#handlers = handlers;
  }

  /** Bytes arrived (or, with an empty chunk, room was made for what is buffered). */
  take(chunk: Buffer): void {
    if (this.#stopped) return;
    const room = Math.max(0, MAX_PENDING_REQUESTS - this.#pending.length);
    let items;
    try {
      items = this.#decoder.push(chunk, room);
    } catch (error) {
      this.stop();
      this.#handlers.malformed(error instanceof RtspParseError ? error.status : 400);
      return;
    }
    let messages = 0;
    for (const item of items) {
      if (item.kind === 'interleaved') this.#handlers.frame(item);
      else {
        messages += 1;
        if (item.kind === 'request') this.#pending.push(item);
      }
    }
    this.#decoderFull = messages >= room;
    void this.#pump();
    this.flow();
  }

  /** Pauses or resumes reading as the bounds say; takes buffered requests when it may. */
  flow(): void {
    if (this.#stopped) return;
    const busy =
      this.#pending.length >= MAX_PENDING_REQUESTS ||
      this.#socket.writableLength > MAX_UNSENT_BYTES;
    if (!busy && this.#decoderFull) {
      this.take(EMPTY);
      return;
    }
    const hold = busy || this.#decoderFull;
    if (hold && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
      this.#guard.hold();
    } else if (!hold && this.#paused) {
      this.#paused = false;
      this.#socket.resume();
      this.#guard.release();
    }
  }

  /** Nothing more is read or answered. */
  stop(): void {
    this.#stopped = true;
    this.#pending.length = 0;
    this.#decoderFull = false;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#guard.hold();
    try {
      while (!this.#stopped && this.#pending.length > 0) {
        await this.#handlers.request(this.#pending.shift() as RtspRequest);
        this.flow();
      }
    } catch (error) {
      this.#handlers.failed(error);
    } finally {
      this.#pumping = false;
      this.#guard.release();
    }
  }
}
