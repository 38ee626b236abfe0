/** What a call, a download or the metrics say, in the form tests assert on. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { RpcError } from '@camera-service/sdk';

/** The error a call fails with (its code and message), or 'ok'. */
export async function failure(
  call: Promise<unknown>,
): Promise<{ code: number; message: string } | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof RpcError, String(error));
    return { code: error.code, message: error.message };
  }
}

/** GET on the API port with a bearer token: the status and the whole body as text. */
export function getWithToken(
  port: number,
  path: string,
  token: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** camera_service_dropped_total for one listener and reason, from /metrics (0 when absent). */
export async function dropCount(
  healthUrl: string,
  listener: string,
  reason: string,
): Promise<number> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  const match = new RegExp(
    `^camera_service_dropped_total\\{listener="${listener}",reason="${reason}"\\} (\\d+)$`,
    'm',
  ).exec(text);
  return match ? Number(match[1]) : 0;
}
