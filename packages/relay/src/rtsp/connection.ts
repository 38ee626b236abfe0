/**
 * One RTSP connection, publisher or reader, over any Duplex (a socket, or a stream pair
 * in tests). Publishers: OPTIONS, ANNOUNCE, SETUP, RECORD, then interleaved media.
 * Readers: OPTIONS, DESCRIBE, SETUP, PLAY, then media; GET_PARAMETER keep-alives;
 * TEARDOWN or close ends it. Only TCP interleaved transport: a SETUP offering nothing
 * else gets 461 so clients retry over TCP. A reader whose socket cannot take more than
 * `maxReaderBufferBytes` is dropped, so it never slows the publisher or other readers.
 *
 * Where MediaMTX checks access, this does: `publish` at ANNOUNCE, `read` at DESCRIBE and
 * at a reader's SETUP, before anything starts (no on-demand command, no reader counted).
 * Refused without credentials: 401 with a Basic challenge, and the client may retry on
 * the same connection; refused with credentials: after the pause, 401, and it is closed.
 *
 * Requests are answered in order with bounded read-ahead (see intake.ts); the socket
 * guard closes connections that send nothing or take nothing for too long (guard.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { rtspCredentials, type AccessControl } from '../access.js';
import type { AuthAction } from '../auth.js';
import { Stream, type StreamReader } from '../stream.js';
import { SocketGuard } from './guard.js';
import { RequestIntake } from './intake.js';
import {
  encodeResponse,
  interleavedHeader,
  type InterleavedFrame,
  type RtspRequest,
} from './message.js';
import { rtspTarget, type RtspTarget } from './target.js';
import { parseTransport, pickInterleaved } from './transport.js';

/** Where streams come from; the relay's path manager implements it. */
export interface PathDirectory {
  /** The stream of a path for a reader with its raw query (may start it on demand), or an error status. */
  read(path: string, query?: string): Promise<Stream | { status: number; reason: string }>;
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
  /**
   * Whether a path may be read (or published, with `publish`) at all. Others get 404
   * before anyone is asked about access, as MediaMTX finds a path's configuration first.
   * Absent: every path.
   */
  hasPath?(path: string, publish: boolean): boolean;
}

export type DropReason = 'read_timeout' | 'write_timeout' | 'slow_reader';

export interface ConnectionOptions {
  paths: PathDirectory;
  maxReaderBufferBytes: number;
  /** Absent: everything is allowed. */
  access?: AccessControl;
  /** The peer's address, for the authentication hook and logs. */
  remote?: string;
  readTimeoutMs?: number;
  writeTimeoutMs?: number;
  onClose?: () => void;
  /** The relay closed the connection for `reason`. */
  onDrop?: (reason: DropReason, path?: string) => void;
  log?: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void;
}

const PUBLIC =
  'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER';
/** gortsplib's challenge for MediaMTX's default rtspAuthMethods, [basic]. */
const CHALLENGE: [string, string] = ['WWW-Authenticate', 'Basic realm="ipcam"'];

type Reply = (status: number, headers?: [string, string][], body?: Buffer) => void;

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
  readonly #socket: Duplex & { writableLength: number };
  readonly #options: ConnectionOptions;
  readonly #guard: SocketGuard;
  readonly #intake: RequestIntake;
  /** The RTSP session id, also this connection's id in the API. */
  readonly id = randomBytes(8).toString('hex');
  /** The id the authentication hook gets (MediaMTX sends its connection's UUID). */
  readonly uuid = randomUUID();
  #state: State = { kind: 'idle' };
  #closed = false;
  /**
   * Bytes of the GOP cache replayed to this reader when it started: they are queued at
   * once, and must not count against the buffer bound of a reader that keeps up.
   */
  #replayAllowance = 0;

  constructor(socket: Duplex, options: ConnectionOptions) {
    this.#socket = socket as Duplex & { writableLength: number };
    this.#options = options;
    this.#guard = new SocketGuard(socket, {
      readTimeoutMs: options.readTimeoutMs ?? 10_000,
      writeTimeoutMs: options.writeTimeoutMs ?? 10_000,
      onTimeout: (reason) => this.#drop(reason),
    });
    this.#intake = new RequestIntake(socket, this.#guard, {
      frame: (frame) => this.#onFrame(frame),
      request: (request) => this.#onRequest(request),
      malformed: (status) => {
        this.#write(encodeResponse(status, [['Connection', 'close']]));
        this.#socket.end();
      },
      failed: (error) => this.#failed(error),
    });
    socket.on('data', (chunk: Buffer) =>
      this.#guarded(() => {
        this.#guard.received();
        this.#intake.take(chunk);
      }),
    );
    socket.on('drain', () => this.#guarded(() => this.#intake.flow()));
    socket.on('close', () => this.#cleanUp());
    socket.on('end', () => this.#socket.end());
    socket.on('error', () => this.#cleanUp());
  }

  // StreamReader: packets from the stream this connection plays.
  deliver(track: number, rtcp: boolean, packet: Buffer): boolean {
    if (this.#state.kind !== 'reading' || !this.#state.playing || this.#closed) return false;
    const channel = this.#state.channels.get(track);
    if (channel === undefined) return false;
    const socket = this.#socket;
    if (socket.writableLength > this.#options.maxReaderBufferBytes + this.#replayAllowance) {
      this.#state.stream.removeReader(this, true);
      this.#drop('slow_reader', { buffered: socket.writableLength });
      return false;
    }
    // Header and packet go out as two writes of the same buffers: the packet is not copied.
    socket.cork();
    this.#write(interleavedHeader(channel + (rtcp ? 1 : 0), packet.length));
    this.#write(packet);
    process.nextTick(() => socket.uncork());
    return true;
  }

  close(reason: string): void {
    this.#options.log?.('info', { reason }, 'closing reader');
    this.#socket.destroy();
  }

  #write(buffer: Buffer): void {
    if (this.#closed || this.#socket.writableEnded || this.#socket.destroyed) return;
    this.#socket.write(buffer);
    this.#guard.wrote(buffer.length);
  }

  /** The relay ends the connection for `reason` (a bound was passed). */
  #drop(reason: 'read_timeout' | 'write_timeout' | 'slow_reader', fields = {}): void {
    if (this.#closed) return;
    const path = this.#state.kind === 'idle' ? undefined : this.#state.path;
    const socket = this.#socket as Duplex & { bytesRead?: number };
    this.#options.log?.(
      'warn',
      {
        reason,
        path,
        remote: this.#options.remote,
        bytes_read: socket.bytesRead,
        unsent_bytes: socket.writableLength,
        ...fields,
      },
      `closing the RTSP connection: ${reason.replace('_', ' ')}`,
    );
    this.#options.onDrop?.(reason, path);
    this.#socket.destroy();
    this.#cleanUp();
  }

  /** Any exception while handling this connection ends it, and only it. */
  #guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    this.#options.log?.(
      'warn',
      { remote: this.#options.remote, error: (error as Error)?.message },
      'closing the RTSP connection after an internal error',
    );
    this.#socket.destroy();
    this.#cleanUp();
  }

  #onFrame(frame: InterleavedFrame): void {
    if (this.#state.kind !== 'publishing' || !this.#state.recording) return;
    const track = this.#state.tracks.get(frame.channel - (frame.channel % 2));
    if (track === undefined) return;
    this.#state.stream.write(track, frame.channel % 2 === 1, frame.payload);
  }

  /** Asks whether `action` is allowed; when not, answers the request as MediaMTX does. */
  async #allowed(
    action: AuthAction,
    target: RtspTarget,
    request: RtspRequest,
    reply: Reply,
  ): Promise<boolean> {
    const access = this.#options.access;
    if (!access?.enabled) return true;
    const outcome = await access.check({
      action,
      path: target.path,
      query: target.query,
      protocol: 'rtsp',
      id: this.uuid,
      remote: this.#options.remote,
      credentials: rtspCredentials(request.headers.get('authorization')),
    });
    if (this.#closed) return false;
    if (outcome === 'allowed') return true;
    if (outcome === 'ask') {
      reply(401, [CHALLENGE]);
    } else {
      reply(401);
      this.#cleanUp();
      this.#socket.end();
    }
    return false;
  }

  async #onRequest(request: RtspRequest): Promise<void> {
    if (this.#closed) return;
    const cseq: [string, string] = ['CSeq', request.headers.get('cseq') ?? '0'];
    const reply: Reply = (status, headers = [], body) =>
      this.#write(encodeResponse(status, [cseq, ...headers], body));
    const session: [string, string] = ['Session', `${this.id};timeout=60`];
    if (request.method === 'OPTIONS') return void reply(200, [['Public', PUBLIC]]);
    const kind =
      request.method === 'ANNOUNCE' ? 'announce' : request.method === 'SETUP' ? 'setup' : 'other';
    const target = rtspTarget(request.uri, kind);
    if (!target) return void reply(400);
    const paths = this.#options.paths;

    switch (request.method) {
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return void reply(200, [session]);
      case 'DESCRIBE': {
        if (this.#state.kind !== 'idle') return void reply(455);
        if (paths.hasPath?.(target.path, false) === false) return void reply(404);
        if (!(await this.#allowed('read', target, request, reply))) return;
        const found = await paths.read(target.path, target.query);
        if (!(found instanceof Stream)) return void reply(found.status);
        if (this.#closed) {
          // The client gave up while an on-demand start held it: it was counted, and is gone.
          paths.readerLeft(target.path, found);
          return;
        }
        this.#state = {
          kind: 'reading',
          path: target.path,
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
        if (paths.hasPath?.(target.path, true) === false) return void reply(404);
        if (!(await this.#allowed('publish', target, request, reply))) return;
        let result;
        try {
          result = paths.publish(target.path, request.body.toString('utf8'), this.id);
        } catch {
          return void reply(400);
        }
        if (!(result instanceof Stream)) return void reply(result.status);
        this.#state = {
          kind: 'publishing',
          path: target.path,
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
        if (state.kind === 'reading' && !(await this.#allowed('read', target, request, reply)))
          return;
        const setupPath = target.control ? `${target.path}/${target.control}` : target.path;
        const track = trackFor(state, setupPath);
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
        // A reader playing over TCP may send nothing from now on.
        this.#guard.exempt = true;
        // The cached GOP first (if the stream keeps one), so a new reader decodes at once.
        // Until the socket has sent that burst, its bound is raised by the burst's size.
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
        reply(200, [session]);
        state.stream.begin();
        return;
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
    this.#guard.stop();
    this.#intake.stop();
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

/** The track a SETUP URL names: `<path>/<control>` where control is the reader's or the publisher's. */
function trackFor(state: Exclude<State, { kind: 'idle' }>, setupPath: string): number {
  const tracks = state.stream.tracks;
  const suffix = setupPath.startsWith(`${state.path}/`)
    ? setupPath.slice(state.path.length + 1)
    : '';
  const matches = (control: string) =>
    control.includes('://') ? absolutePath(control) === setupPath : control === suffix;
  const index = tracks.findIndex((t) =>
    state.kind === 'reading'
      ? matches(t.control)
      : matches(t.publisherControl) || matches(t.control),
  );
  // A single-track stream may be set up on the path itself.
  if (index < 0 && tracks.length === 1 && (suffix === '' || setupPath === state.path)) return 0;
  return index;
}

/** The path (with any track control) of an absolute control URL. */
function absolutePath(control: string): string | null {
  const target = rtspTarget(control, 'setup');
  if (!target) return null;
  return target.control ? `${target.path}/${target.control}` : target.path;
}
