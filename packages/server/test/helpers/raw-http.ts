/**
 * Raw HTTP over TCP, for requests no HTTP client library would send: malformed request
 * lines and targets, upgrades to odd paths, clients that never read.
 */
import net from 'node:net';

export interface RawResponse {
  /** The status code of the first response, or null when the server sent nothing. */
  status: number | null;
  /** Everything the server sent before closing (or before the timeout). */
  text: string;
  /** Whether the server closed the connection (rather than the timeout ending the wait). */
  closed: boolean;
}

/**
 * Sends `request` as it is and collects what comes back until the server closes the
 * connection, a first response is complete with `Connection: close`, or `timeoutMs`.
 */
export function rawRequest(
  port: number,
  request: string | Buffer,
  options: { host?: string; localAddress?: string; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect({
      port,
      host: options.host ?? '127.0.0.1',
      ...(options.localAddress && { localAddress: options.localAddress }),
    });
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, text, closed });
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 5000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      // A 101 keeps the connection open, and so may a keep-alive answer: the answer is
      // complete once its headers, and the body they announce, are in.
      if (/^HTTP\/1\.1 101 /.test(text)) return finish(false);
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (length && text.length >= end + 4 + Number(length[1])) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** An upgrade request to `target` with the headers a WebSocket client sends. */
export function upgradeRequest(target: string, extra: Record<string, string> = {}): string {
  const headers = {
    Host: '127.0.0.1',
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
