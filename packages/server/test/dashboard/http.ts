/** Plain HTTP requests with any headers (Origin, Cookie), for the dashboard tests. */
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => Record<string, unknown>;
}

export function request(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Signs in and returns the Cookie header value, with the reply. */
export async function signIn(
  port: number,
  token: string,
): Promise<{ cookie: string; reply: Reply }> {
  const reply = await request(port, 'POST', '/session', {
    headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
    body: JSON.stringify({ token }),
  });
  const set = reply.headers['set-cookie']?.[0] ?? '';
  return { cookie: set.split(';')[0] ?? '', reply };
}
