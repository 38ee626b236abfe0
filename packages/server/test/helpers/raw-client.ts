/**
 * A hand-driven WebSocket client over a raw TCP socket, for peers that misbehave in ways
 * a library client will not: one that stops reading, one that never answers pings.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';

export interface RawClient {
  socket: Socket;
  /** Sends one masked text frame (as a browser or ws client would). */
  sendText(text: string): boolean;
  /** Sends one masked text frame with exactly these bytes (e.g. invalid UTF-8). */
  sendBytes(payload: Buffer): boolean;
}

export interface ServerFrame {
  opcode: number;
  payload: Buffer;
}

export function encodeClientFrame(text: string): Buffer {
  return encodeClientBytes(Buffer.from(text, 'utf8'));
}

export function encodeClientBytes(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([0x81, 0x80 | payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt8(0x81, 0);
    header.writeUInt8(0x80 | 126, 1);
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(0x81, 0);
    header.writeUInt8(0x80 | 127, 1);
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i += 1)
    masked[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, masked]);
}

export function connectRaw(wsUrl: string): Promise<RawClient> {
  const url = new URL(wsUrl.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
      },
    });
    req.on('upgrade', (_res, socket) => {
      resolve({
        socket,
        sendText: (text) => socket.write(encodeClientFrame(text)),
        sendBytes: (bytes) => socket.write(encodeClientBytes(bytes)),
      });
    });
    req.on('response', (res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Decodes the server's (unmasked, unfragmented) frames as they arrive. */
export function onServerFrames(socket: Socket, onFrame: (frame: ServerFrame) => void): void {
  let buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (buffer.length < 2) return;
      const opcode = (buffer[0] as number) & 0x0f;
      let length = (buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffer.length < offset + length) return;
      onFrame({ opcode, payload: buffer.subarray(offset, offset + length) });
      buffer = buffer.subarray(offset + length);
    }
  });
}
