/**
 * A minimal RTSP reader over TCP, built on the relay's own decoder and encoder, as the
 * relay's tests do (packages/relay/test/helpers/reader.ts): DESCRIBE, SETUP of track 0
 * interleaved on channels 0-1, PLAY. It decodes nothing: it counts the RTP and RTCP
 * packets it gets, finds lost RTP packets by sequence number, and, when asked, notes
 * when the first packet starting an H.264 keyframe arrives.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  RtspDecoder,
  encodeRequest,
  parseRtpHeader,
  startsKeyframe,
  type InterleavedFrame,
  type RtspResponse,
} from '@camera-service/relay';
import type { ReaderCounts } from './relay-protocol.js';

export function emptyCounts(): ReaderCounts {
  return {
    rtpPackets: 0,
    rtpBytes: 0,
    rtcpPackets: 0,
    rtcpBytes: 0,
    lost: 0,
    gaps: 0,
    late: 0,
    malformed: 0,
  };
}

/** a += b, field by field. */
export function addCounts(a: ReaderCounts, b: ReaderCounts): void {
  for (const key of Object.keys(a) as (keyof ReaderCounts)[]) a[key] += b[key];
}

/** a - b, field by field, as a new object. */
export function subtractCounts(a: ReaderCounts, b: ReaderCounts): ReaderCounts {
  const result = emptyCounts();
  for (const key of Object.keys(result) as (keyof ReaderCounts)[]) result[key] = a[key] - b[key];
  return result;
}

interface Waiter {
  resolve(response: RtspResponse): void;
  reject(error: Error): void;
}

export class RtspReader {
  readonly #socket: net.Socket;
  /** SDP bodies are small, but a relay may describe many tracks. */
  readonly #decoder = new RtspDecoder({ maxBodyBytes: 1 << 20 });
  readonly #waiting: Waiter[] = [];
  readonly #watchKeyframe: boolean;
  #cseq = 0;
  #lastSequence: number | null = null;
  #ssrc: number | null = null;
  /** Counters since PLAY; the loadgen snapshots them around its window. */
  readonly counts = emptyCounts();
  /** performance.now() of the first media packet, and of the first keyframe start. */
  firstPacketAt: number | null = null;
  firstKeyframeAt: number | null = null;
  /** Whether the very first media packet started a keyframe. */
  firstPacketWasKeyframe = false;
  /** Set when the connection ends, with why (the reader's own close included). */
  closedBecause: string | null = null;
  #onKeyframe: (() => void) | null = null;

  private constructor(socket: net.Socket, watchKeyframe: boolean) {
    this.#socket = socket;
    this.#watchKeyframe = watchKeyframe;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#ended(`socket error: ${error.message}`));
    socket.on('close', () => this.#ended('the connection closed'));
  }

  /** Connects within `timeoutMs`; `watchKeyframe` turns on keyframe detection (costs a parse). */
  static connect(
    host: string,
    port: number,
    timeoutMs: number,
    watchKeyframe = false,
  ): Promise<RtspReader> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RtspReader(socket, watchKeyframe));
      });
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.once('error', onError);
    });
  }

  get closed(): boolean {
    return this.closedBecause !== null;
  }

  /** One request; rejects when the answer does not come within `timeoutMs` or the socket ends. */
  request(
    method: string,
    uri: string,
    headers: [string, string][],
    timeoutMs: number,
  ): Promise<RtspResponse> {
    if (this.closedBecause !== null) {
      return Promise.reject(new Error(`${method}: ${this.closedBecause}`));
    }
    this.#cseq += 1;
    const response = new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${method} got no answer within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      this.#waiting.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`${method}: ${e.message}`));
        },
      });
    });
    this.#socket.write(encodeRequest(method, uri, [['CSeq', String(this.#cseq)], ...headers]));
    return response;
  }

  /** DESCRIBE, SETUP of track 0 over TCP, then PLAY; resolves with when PLAY was sent. */
  async play(url: string, timeoutMs: number): Promise<number> {
    const describe = await this.request(
      'DESCRIBE',
      url,
      [['Accept', 'application/sdp']],
      timeoutMs,
    );
    if (describe.status !== 200) throw new Error(`DESCRIBE ${url} answered ${describe.status}`);
    const setup = await this.request(
      'SETUP',
      `${url}/trackID=0`,
      [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']],
      timeoutMs,
    );
    if (setup.status !== 200) throw new Error(`SETUP ${url} answered ${setup.status}`);
    const session = (setup.headers.get('session') ?? '').split(';')[0] ?? '';
    const sentAt = performance.now();
    const play = await this.request('PLAY', url, [['Session', session]], timeoutMs);
    if (play.status !== 200) throw new Error(`PLAY ${url} answered ${play.status}`);
    return sentAt;
  }

  /** Resolves when a packet starting a keyframe has arrived (needs watchKeyframe), or after `ms`. */
  keyframe(ms: number): Promise<boolean> {
    if (this.firstKeyframeAt !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onKeyframe = null;
        resolve(false);
      }, ms);
      this.#onKeyframe = () => {
        clearTimeout(timer);
        this.#onKeyframe = null;
        resolve(true);
      };
    });
  }

  close(): void {
    this.#ended('closed by the reader');
    this.#socket.destroy();
  }

  #ended(reason: string): void {
    if (this.closedBecause === null) this.closedBecause = reason;
    const error = new Error(reason);
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }

  #onData(chunk: Buffer): void {
    let items;
    try {
      items = this.#decoder.push(chunk);
    } catch (error) {
      this.#ended(`undecodable data from the relay: ${(error as Error).message}`);
      this.#socket.destroy();
      return;
    }
    for (const item of items) {
      if (item.kind === 'response') this.#waiting.shift()?.resolve(item);
      else if (item.kind === 'interleaved') this.#onFrame(item);
    }
  }

  #onFrame(frame: InterleavedFrame): void {
    const { payload } = frame;
    if (frame.channel === 1) {
      this.counts.rtcpPackets += 1;
      this.counts.rtcpBytes += payload.length;
      return;
    }
    if (frame.channel !== 0) return;
    const counts = this.counts;
    counts.rtpPackets += 1;
    counts.rtpBytes += payload.length;
    const header = parseRtpHeader(payload);
    if (!header) {
      counts.malformed += 1;
      return;
    }
    if (this.firstPacketAt === null) {
      this.firstPacketAt = performance.now();
      if (this.#watchKeyframe) this.firstPacketWasKeyframe = startsKeyframe(payload);
    }
    if (this.#watchKeyframe && this.firstKeyframeAt === null && startsKeyframe(payload)) {
      this.firstKeyframeAt = performance.now();
      this.#onKeyframe?.();
    }
    // A new SSRC is a new sequence space (a publisher that reconnected): start over.
    if (header.ssrc !== this.#ssrc) {
      this.#ssrc = header.ssrc;
      this.#lastSequence = header.sequence;
      return;
    }
    const last = this.#lastSequence ?? header.sequence;
    const step = (header.sequence - last) & 0xffff;
    if (step === 1) {
      this.#lastSequence = header.sequence;
    } else if (step > 0 && step < 0x8000) {
      counts.lost += step - 1;
      counts.gaps += 1;
      this.#lastSequence = header.sequence;
    } else {
      // Zero or "behind" (more than half the sequence space ahead): a duplicate or a
      // packet out of order. The last sequence number stays where it was.
      counts.late += 1;
    }
  }
}
