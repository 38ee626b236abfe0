/** A minimal RTSP reader over TCP, for exact timing and for readers that misbehave. */
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import { RtspDecoder, encodeRequest, type RtspResponse } from '../../src/index.js';

export class RawReader extends EventEmitter<{ packet: [Buffer, number]; closed: [] }> {
  readonly socket: net.Socket;
  readonly #decoder = new RtspDecoder({ maxBodyBytes: 1 << 20 });
  readonly #waiting: ((r: RtspResponse) => void)[] = [];
  #cseq = 0;
  packets = 0;
  bytes = 0;

  private constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const item of this.#decoder.push(chunk)) {
        if (item.kind === 'response') this.#waiting.shift()?.(item);
        else if (item.kind === 'interleaved' && item.channel === 0) {
          this.packets += 1;
          this.bytes += item.payload.length;
          this.emit('packet', item.payload, performance.now());
        }
      }
    });
    socket.on('close', () => this.emit('closed'));
    socket.on('error', () => undefined);
  }

  static async connect(url: string): Promise<RawReader> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    await once(socket, 'connect');
    return new RawReader(socket);
  }

  request(
    method: string,
    uri: string,
    headers: [string, string][] = [],
    body?: Buffer,
  ): Promise<RtspResponse> {
    this.#cseq += 1;
    const response = new Promise<RtspResponse>((resolve) => this.#waiting.push(resolve));
    this.socket.write(encodeRequest(method, uri, [['CSeq', String(this.#cseq)], ...headers], body));
    return response;
  }

  /** DESCRIBE, SETUP of the first track over TCP, then PLAY; resolves with the time PLAY was sent. */
  async play(url: string): Promise<number> {
    const describe = await this.request('DESCRIBE', url, [['Accept', 'application/sdp']]);
    if (describe.status !== 200) throw new Error(`DESCRIBE answered ${describe.status}`);
    const setup = await this.request('SETUP', `${url}/trackID=0`, [
      ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1'],
    ]);
    if (setup.status !== 200) throw new Error(`SETUP answered ${setup.status}`);
    const session = (setup.headers.get('session') ?? '').split(';')[0] ?? '';
    const sentAt = performance.now();
    const play = await this.request('PLAY', url, [['Session', session]]);
    if (play.status !== 200) throw new Error(`PLAY answered ${play.status}`);
    return sentAt;
  }
}
