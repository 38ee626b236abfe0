/**
 * One RTSP connection, publisher or reader, over any Duplex (a socket, or a stream pair
 * in tests). Publishers: OPTIONS, ANNOUNCE, SETUP, RECORD, then interleaved media.
 * Readers: OPTIONS, DESCRIBE, SETUP, PLAY, then media; GET_PARAMETER keep-alives;
 * TEARDOWN or close ends it. Only TCP interleaved transport: a SETUP offering nothing
 * else gets 461 so clients retry over TCP. A reader whose socket cannot take more than
 * `maxReaderBufferBytes` is dropped, so it never slows the publisher or other readers.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Stream, type StreamReader } from '../stream.js';
import {
  RtspDecoder,
  RtspParseError,
  encodeResponse,
  interleavedHeader,
  type InterleavedFrame,
  type RtspRequest,
} from './message.js';
import { parseTransport, pickInterleaved } from './transport.js';

/** Where streams come from; the relay's path manager implements it. */
export interface PathDirectory {
  /** The stream of a path for a reader (may start it on demand), or an error status. */
  read(path: string): Promise<Stream | { status: number; reason: string }>;
  /** Starts publishing to a path (`publisherId` names the session), or refuses with a status. */
  publish(
    path: string,
    sdp: string,
    publisherId: string,
  ): Stream | { status: number; reason: string };
  /** The publisher of `stream` left. */
  unpublish(path: string, stream: Stream): void;
  /** A reader of `stream` left a path (for on-demand close-after). */
  readerLeft(path: string, stream: Stream): void;
}

export interface ConnectionOptions {
  paths: PathDirectory;
  maxReaderBufferBytes: number;
  onClose?: () => void;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
}

const PUBLIC =
  'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

type State =
  | { kind: 'idle' }
  | {
      kind: 'reading';
      path: string;
      stream: Stream;
      channels: Map<number, number>;
      playing: boolean;
    }
  | {
      kind: 'publishing';
      path: string;
      stream: Stream;
      tracks: Map<number, number>;
      recording: boolean;
    };

export class RtspConnection implements StreamReader {
  readonly #socket: Duplex;
  readonly #options: ConnectionOptions;
  readonly #decoder = new RtspDecoder();
  /** The RTSP session id, also this connection's id in the API. */
  readonly id = randomBytes(8).toString('hex');
  #state: State = { kind: 'idle' };
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /**
   * Bytes of the GOP cache replayed to this reader when it started: they are queued at
   * once, and must not count against the buffer bound of a reader that keeps up.
   */
  #replayAllowance = 0;

  constructor(socket: Duplex, options: ConnectionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.#cleanUp());
    socket.on('end', () => this.#socket.end());
    socket.on('error', () => this.#cleanUp());
  }

  // StreamReader: packets from the stream this connection plays.
  deliver(track: number, rtcp: boolean, packet: Buffer): boolean {
    if (this.#state.kind !== 'reading' || !this.#state.playing) return false;
    const channel = this.#state.channels.get(track);
    if (channel === undefined) return false;
    const socket = this.#socket as Duplex & { writableLength: number };
    if (socket.writableLength > this.#options.maxReaderBufferBytes + this.#replayAllowance) {
      this.#options.log?.(
        'warn',
        { path: this.#state.path, buffered: socket.writableLength },
        'reader too slow: dropped',
      );
      this.#state.stream.removeReader(this, true);
      socket.destroy();
      return false;
    }
    // Header and packet go out as two writes of the same buffers: the packet is not copied.
    socket.cork();
    socket.write(interleavedHeader(channel + (rtcp ? 1 : 0), packet.length));
    socket.write(packet);
    process.nextTick(() => socket.uncork());
    return true;
  }

  close(reason: string): void {
    this.#options.log?.('info', { reason }, 'closing reader');
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    let items;
    try {
      items = this.#decoder.push(chunk);
    } catch (error) {
      const status = error instanceof RtspParseError ? error.status : 400;
      this.#socket.end(encodeResponse(status, [['Connection', 'close']]));
      return;
    }
    for (const item of items) {
      if (item.kind === 'interleaved') this.#onFrame(item);
      else if (item.kind === 'request') {
        // Requests are answered in order, even when one has to wait (on-demand start).
        this.#queue = this.#queue
          .then(() => this.#onRequest(item))
          .catch(() => {
            this.#socket.destroy();
          });
      }
    }
  }

  #onFrame(frame: InterleavedFrame): void {
    if (this.#state.kind !== 'publishing' || !this.#state.recording) return;
    const track = this.#state.tracks.get(frame.channel - (frame.channel % 2));
    if (track === undefined) return;
    this.#state.stream.write(track, frame.channel % 2 === 1, frame.payload);
  }

  async #onRequest(request: RtspRequest): Promise<void> {
    if (this.#closed) return;
    const cseq: [string, string] = ['CSeq', request.headers.get('cseq') ?? '0'];
    const reply = (status: number, headers: [string, string][] = [], body?: Buffer) =>
      this.#socket.write(encodeResponse(status, [cseq, ...headers], body));
    const session: [string, string] = ['Session', `${this.id};timeout=60`];
    const url = parseUrl(request.uri);
    if (!url) return void reply(400);

    switch (request.method) {
      case 'OPTIONS':
        return void reply(200, [['Public', PUBLIC]]);
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return void reply(200, [session]);
      case 'DESCRIBE': {
        if (this.#state.kind !== 'idle') return void reply(455);
        const found = await this.#options.paths.read(url.path);
        if (!(found instanceof Stream)) return void reply(found.status);
        if (this.#closed) {
          // The client gave up while an on-demand start held it: it was counted, and is gone.
          this.#options.paths.readerLeft(url.path, found);
          return;
        }
        this.#state = {
          kind: 'reading',
          path: url.path,
          stream: found,
          channels: new Map(),
          playing: false,
        };
        const base = request.uri.endsWith('/') ? request.uri : `${request.uri}/`;
        return void reply(
          200,
          [
            ['Content-Base', base],
            ['Content-Type', 'application/sdp'],
          ],
          Buffer.from(found.describe()),
        );
      }
      case 'ANNOUNCE': {
        if (this.#state.kind !== 'idle') return void reply(455);
        if (request.headers.get('content-type') !== 'application/sdp') return void reply(400);
        let result;
        try {
          result = this.#options.paths.publish(url.path, request.body.toString('utf8'), this.id);
        } catch {
          return void reply(400);
        }
        if (!(result instanceof Stream)) return void reply(result.status);
        this.#state = {
          kind: 'publishing',
          path: url.path,
          stream: result,
          tracks: new Map(),
          recording: false,
        };
        return void reply(200);
      }
      case 'SETUP': {
        const state = this.#state;
        if (state.kind === 'idle') return void reply(455);
        const spec = pickInterleaved(parseTransport(request.headers.get('transport') ?? ''));
        if (!spec) return void reply(461);
        const track = trackFor(state, url.path);
        if (track < 0) return void reply(404);
        const [rtp, rtcp] = spec.interleaved ?? [track * 2, track * 2 + 1];
        if (state.kind === 'reading') state.channels.set(track, rtp);
        else state.tracks.set(rtp, track);
        const mode = state.kind === 'publishing' ? ';mode=record' : '';
        return void reply(200, [
          ['Transport', `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp}${mode}`],
          session,
        ]);
      }
      case 'PLAY': {
        const state = this.#state;
        if (state.kind !== 'reading' || state.channels.size === 0) return void reply(455);
        reply(200, [session, ['Range', 'npt=0.000-']]);
        state.playing = true;
        // The cached GOP first, so a new reader decodes at once. Until the socket has sent
        // that burst, its bound is raised by the burst's size.
        this.#replayAllowance = state.stream.gopBytes;
        if (this.#replayAllowance > 0) {
          this.#socket.once('drain', () => (this.#replayAllowance = 0));
        }
        state.stream.addReader(this, { fastStart: true });
        return;
      }
      case 'RECORD': {
        const state = this.#state;
        if (state.kind !== 'publishing' || state.tracks.size === 0) return void reply(455);
        state.recording = true;
        return void reply(200, [session]);
      }
      case 'TEARDOWN':
        reply(200, [session]);
        // Leave the stream now: nothing more is delivered to a socket being ended.
        this.#cleanUp();
        this.#socket.end();
        return;
      default:
        return void reply(501, [['Public', PUBLIC]]);
    }
  }

  #cleanUp(): void {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    if (state.kind === 'reading') {
      state.stream.removeReader(this);
      this.#options.paths.readerLeft(state.path, state.stream);
    } else if (state.kind === 'publishing') {
      this.#options.paths.unpublish(state.path, state.stream);
    }
    this.#state = { kind: 'idle' };
    this.#options.onClose?.();
  }
}

/** The path of an rtsp:// URL, without leading or trailing slashes. */
function parseUrl(uri: string): { path: string } | null {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') return null;
    return { path: decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '') };
  } catch {
    return null;
  }
}

/** The track a SETUP URL names: `<path>/<control>` where control is the reader's or the publisher's. */
function trackFor(state: Exclude<State, { kind: 'idle' }>, setupPath: string): number {
  const tracks = state.stream.tracks;
  const suffix = setupPath.startsWith(`${state.path}/`)
    ? setupPath.slice(state.path.length + 1)
    : '';
  const matches = (control: string) =>
    control.includes('://') ? parseUrl(control)?.path === setupPath : control === suffix;
  const index = tracks.findIndex((t) =>
    state.kind === 'reading'
      ? matches(t.control)
      : matches(t.publisherControl) || matches(t.control),
  );
  // A single-track stream may be set up on the path itself.
  if (index < 0 && tracks.length === 1 && (suffix === '' || setupPath === state.path)) return 0;
  return index;
}
