/**
 * RTSP 1.0 messages and interleaved binary frames, decoded from a TCP byte stream.
 * Requests, responses and `$`-framed RTP/RTCP share one stream in both directions and can
 * break at any byte, so the decoder is incremental: push bytes, take complete items.
 * Pure: no sockets. Interleaved payloads are views into the received chunks, not copies.
 */

export type Headers = ReadonlyMap<string, string>;

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  /** Header names are lower-cased. */
  headers: Headers;
  body: Buffer;
}

export interface RtspResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export interface InterleavedFrame {
  kind: 'interleaved';
  channel: number;
  payload: Buffer;
}

export type RtspItem = RtspRequest | RtspResponse | InterleavedFrame;

/** A malformed message; `status` is the RTSP status to answer with before closing. */
export class RtspParseError extends Error {
  constructor(
    readonly status: 400 | 413 | 431 | 505,
    message: string,
  ) {
    super(message);
    this.name = 'RtspParseError';
  }
}

export interface DecoderLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

const DEFAULT_LIMITS: DecoderLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 };
const DOLLAR = 0x24;
const HEADER_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export class RtspDecoder {
  readonly #limits: DecoderLimits;
  #buffer: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(limits: Partial<DecoderLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes received and not yet part of a complete item. */
  get pending(): number {
    return this.#buffer.length;
  }

  /**
   * Adds bytes and returns every item they complete; throws RtspParseError when malformed.
   * With `maxMessages`, stops after that many requests and responses (interleaved frames
   * do not count): the rest stays buffered, and `push(Buffer.alloc(0))` continues.
   */
  push(chunk: Buffer, maxMessages = Infinity): RtspItem[] {
    if (this.#failed) throw new RtspParseError(400, 'the stream is already broken');
    const items: RtspItem[] = [];
    try {
      this.#append(chunk, items);
      let messages = 0;
      while (messages < maxMessages) {
        const item = this.#next();
        if (!item) break;
        items.push(item);
        if (item.kind !== 'interleaved') messages += 1;
      }
    } catch (error) {
      this.#failed = true;
      throw error;
    }
    return items;
  }

  /**
   * Takes in a chunk. Most chunks begin with the rest of an interleaved frame the last one
   * cut: only that rest is copied, to complete the frame; the chunk after it is kept as a
   * view. Anything else left over (a text message cut in two) is joined whole.
   */
  #append(chunk: Buffer, items: RtspItem[]): void {
    const left = this.#buffer;
    if (left.length === 0) {
      this.#buffer = chunk;
      return;
    }
    if (chunk.length === 0) return;
    if (left[0] === DOLLAR && left.length >= 4) {
      const need = 4 + left.readUInt16BE(2) - left.length;
      if (need > 0 && chunk.length >= need) {
        this.#buffer = Buffer.concat([left, chunk.subarray(0, need)]);
        const frame = this.#next();
        if (frame) items.push(frame);
        this.#buffer = chunk.subarray(need);
        return;
      }
    }
    this.#buffer = Buffer.concat([left, chunk]);
  }

  #next(): RtspItem | null {
    const buf = this.#buffer;
    if (buf.length === 0) return null;
    if (buf[0] === DOLLAR) {
      if (buf.length < 4) return null;
      const length = buf.readUInt16BE(2);
      if (buf.length < 4 + length) return null;
      const frame: InterleavedFrame = {
        kind: 'interleaved',
        channel: buf[1] as number,
        payload: buf.subarray(4, 4 + length),
      };
      this.#buffer = buf.subarray(4 + length);
      return frame;
    }
    const end = buf.indexOf(HEADER_END);
    if (end < 0) {
      if (buf.length > this.#limits.maxHeaderBytes) {
        throw new RtspParseError(
          431,
          `the message head is over ${this.#limits.maxHeaderBytes} bytes`,
        );
      }
      return null;
    }
    if (end > this.#limits.maxHeaderBytes) {
      throw new RtspParseError(
        431,
        `the message head is over ${this.#limits.maxHeaderBytes} bytes`,
      );
    }
    const head = parseHead(buf.subarray(0, end).toString('latin1'));
    const lengthText = head.headers.get('content-length');
    let bodyLength = 0;
    if (lengthText !== undefined) {
      if (!/^\d{1,9}$/.test(lengthText))
        throw new RtspParseError(400, `bad Content-Length "${lengthText}"`);
      bodyLength = Number(lengthText);
      if (bodyLength > this.#limits.maxBodyBytes) {
        throw new RtspParseError(413, `the body is over ${this.#limits.maxBodyBytes} bytes`);
      }
    }
    const start = end + HEADER_END.length;
    if (buf.length < start + bodyLength) return null;
    // The body is copied: messages are rare and small, and must not pin a large chunk.
    const body = Buffer.from(buf.subarray(start, start + bodyLength));
    this.#buffer = buf.subarray(start + bodyLength);
    return { ...head, body } as RtspItem;
  }
}

type Head = Omit<RtspRequest, 'body'> | Omit<RtspResponse, 'body'>;

function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const startLine = lines[0] ?? '';
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new RtspParseError(400, `bad header line "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!TOKEN.test(name)) throw new RtspParseError(400, `bad header name "${name.slice(0, 80)}"`);
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  const parts = startLine.split(' ');
  if (startLine.startsWith('RTSP/')) {
    const [version, code, ...reason] = parts;
    if (version !== 'RTSP/1.0') throw new RtspParseError(505, `unsupported version ${version}`);
    if (!/^\d{3}$/.test(code ?? ''))
      throw new RtspParseError(400, `bad status line "${startLine.slice(0, 80)}"`);
    return { kind: 'response', status: Number(code), reason: reason.join(' '), headers };
  }
  if (parts.length !== 3)
    throw new RtspParseError(400, `bad request line "${startLine.slice(0, 80)}"`);
  const [method, uri, version] = parts as [string, string, string];
  if (!/^[A-Z_]{1,32}$/.test(method))
    throw new RtspParseError(400, `bad method "${method.slice(0, 40)}"`);
  if (!version.startsWith('RTSP/'))
    throw new RtspParseError(400, `bad request line "${startLine.slice(0, 80)}"`);
  if (version !== 'RTSP/1.0') throw new RtspParseError(505, `unsupported version ${version}`);
  if (uri.length === 0) throw new RtspParseError(400, 'empty request URI');
  return { kind: 'request', method, uri, headers };
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
  431: 'Request Header Fields Too Large',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  459: 'Aggregate Operation Not Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

function encodeHead(startLine: string, headers: Iterable<[string, string]>, body: Buffer): Buffer {
  let text = `${startLine}\r\n`;
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value))
      throw new Error(`header ${name} holds a line break`);
    text += `${name}: ${value}\r\n`;
  }
  if (body.length > 0) text += `Content-Length: ${body.length}\r\n`;
  return Buffer.concat([Buffer.from(`${text}\r\n`, 'latin1'), body]);
}

export function encodeResponse(
  status: number,
  headers: Iterable<[string, string]>,
  body: Buffer = Buffer.alloc(0),
): Buffer {
  return encodeHead(`RTSP/1.0 ${status} ${reasonPhrase(status)}`, headers, body);
}

export function encodeRequest(
  method: string,
  uri: string,
  headers: Iterable<[string, string]>,
  body: Buffer = Buffer.alloc(0),
): Buffer {
  return encodeHead(`${method} ${uri} RTSP/1.0`, headers, body);
}

/** The 4-byte header of an interleaved frame (the payload follows, unchanged). */
export function interleavedHeader(channel: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(4);
  header[0] = DOLLAR;
  header[1] = channel;
  header.writeUInt16BE(length, 2);
  return header;
}
