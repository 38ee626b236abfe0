/**
 * A pulling RTSP client for network cameras: DESCRIBE (answering Basic or Digest
 * challenges), SETUP of every track over TCP interleaved, PLAY, then packets; keep-alives
 * keep the session open. The caller gets the SDP, then every packet, then `closed`.
 */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { attribute, parseSdp } from '../sdp.js';
import { authorization, type Credentials } from './auth.js';
import { RtspDecoder, encodeRequest, type RtspResponse } from './message.js';

export interface RtspClientEvents {
  described: [sdp: string];
  packet: [track: number, rtcp: boolean, payload: Buffer];
  closed: [reason: string];
}

const KEEPALIVE_MS = 25_000;

export class RtspClient extends EventEmitter<RtspClientEvents> {
  readonly #url: URL;
  readonly #credentials: Credentials | null;
  readonly #timeoutMs: number;
  #socket: net.Socket | null = null;
  #decoder = new RtspDecoder({ maxBodyBytes: 1 << 20 });
  #cseq = 0;
  #waiting: ((response: RtspResponse) => void) | null = null;
  #session: string | null = null;
  #challenges: string[] | null = null;
  #nc = 0;
  #keepalive: NodeJS.Timeout | undefined;
  #closed = false;
  /** Interleaved RTP channel → track. */
  readonly #channels = new Map<number, number>();

  constructor(url: string, options: { timeoutMs?: number } = {}) {
    super();
    const parsed = new URL(url);
    this.#credentials = parsed.username
      ? {
          username: decodeURIComponent(parsed.username),
          password: decodeURIComponent(parsed.password),
        }
      : null;
    parsed.username = '';
    parsed.password = '';
    this.#url = parsed;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Connects and starts playing; rejects with a reason when the camera cannot be read. */
  async start(): Promise<void> {
    const socket = net.connect(Number(this.#url.port || 554), this.#url.hostname);
    socket.setNoDelay(true);
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('close', () => this.close('the camera closed the connection'));
    socket.on('error', (error) => this.close(`connection error: ${error.message}`));
    await once(socket, 'connect', { signal: AbortSignal.timeout(this.#timeoutMs) });

    const base = this.#url.href;
    const described = await this.#request('DESCRIBE', base, [['Accept', 'application/sdp']]);
    if (described.status !== 200)
      throw new Error(`DESCRIBE answered ${described.status} ${described.reason}`);
    const sdpText = described.body.toString('utf8');
    const sdp = parseSdp(sdpText);
    const contentBase =
      described.headers.get('content-base') ?? described.headers.get('content-location') ?? base;
    for (const [track, media] of sdp.media.entries()) {
      const control = attribute(media.lines, 'control') ?? '';
      const trackUrl = resolveControl(contentBase, control);
      const headers: [string, string][] = [
        ['Transport', `RTP/AVP/TCP;unicast;interleaved=${track * 2}-${track * 2 + 1}`],
      ];
      if (this.#session) headers.push(['Session', this.#session]);
      const setup = await this.#request('SETUP', trackUrl, headers);
      if (setup.status !== 200)
        throw new Error(`SETUP of track ${track} answered ${setup.status} ${setup.reason}`);
      this.#session ??= (setup.headers.get('session') ?? '').split(';')[0] || null;
      const channel = /interleaved=(\d+)/.exec(setup.headers.get('transport') ?? '')?.[1];
      this.#channels.set(channel === undefined ? track * 2 : Number(channel), track);
    }
    this.emit('described', sdpText);
    const play = await this.#request(
      'PLAY',
      contentBase,
      this.#session ? [['Session', this.#session]] : [],
    );
    if (play.status !== 200) throw new Error(`PLAY answered ${play.status} ${play.reason}`);
    this.#keepalive = setInterval(() => {
      if (this.#waiting) return;
      this.#request('GET_PARAMETER', base, this.#session ? [['Session', this.#session]] : []).catch(
        () => undefined,
      );
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    this.#socket?.destroy();
    this.emit('closed', reason);
  }

  #onData(chunk: Buffer): void {
    let items;
    try {
      items = this.#decoder.push(chunk);
    } catch (error) {
      this.close(`the camera sent a malformed message: ${(error as Error).message}`);
      return;
    }
    for (const item of items) {
      if (item.kind === 'response') {
        const waiter = this.#waiting;
        this.#waiting = null;
        waiter?.(item);
      } else if (item.kind === 'interleaved') {
        const track = this.#channels.get(item.channel - (item.channel % 2));
        if (track !== undefined) this.emit('packet', track, item.channel % 2 === 1, item.payload);
      }
    }
  }

  async #request(method: string, uri: string, headers: [string, string][]): Promise<RtspResponse> {
    let response = await this.#send(method, uri, headers);
    if (response.status === 401 && this.#credentials) {
      this.#challenges = (response.headers.get('www-authenticate') ?? '').split(
        /,\s*(?=(?:Digest|Basic)\b)/i,
      );
      response = await this.#send(method, uri, headers);
    }
    return response;
  }

  #send(method: string, uri: string, headers: [string, string][]): Promise<RtspResponse> {
    if (this.#closed || !this.#socket) return Promise.reject(new Error('the connection is closed'));
    const all: [string, string][] = [
      ['CSeq', String(++this.#cseq)],
      ['User-Agent', 'camera-relay'],
      ...headers,
    ];
    if (this.#challenges && this.#credentials) {
      const value = authorization(this.#challenges, this.#credentials, method, uri, ++this.#nc);
      if (value) all.push(['Authorization', value]);
    }
    const response = new Promise<RtspResponse>((resolve, reject) => {
      const onClosed = (reason: string) => {
        clearTimeout(timer);
        reject(new Error(reason));
      };
      const timer = setTimeout(() => {
        this.off('closed', onClosed);
        reject(new Error(`${method} got no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.once('closed', onClosed);
      this.#waiting = (r) => {
        clearTimeout(timer);
        this.off('closed', onClosed);
        resolve(r);
      };
    });
    this.#socket.write(encodeRequest(method, uri, all));
    return response;
  }
}

/** A track's URL from the session base and its control attribute. */
export function resolveControl(base: string, control: string): string {
  if (control === '' || control === '*') return base;
  if (/^rtsps?:\/\//.test(control)) return control;
  return `${base.endsWith('/') ? base : `${base}/`}${control}`;
}
