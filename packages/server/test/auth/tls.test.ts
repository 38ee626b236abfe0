import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CameraServiceClient, type WebSocketConstructor } from '@camera-service/sdk';
import { WebSocket } from 'ws';
import { startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';

/** A self-signed certificate for 127.0.0.1, made for this test run. */
function selfSigned(): { cert: string; key: string } {
  const dir = tempDir();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe('TLS', () => {
  it('serves wss:// and https:// with the configured certificate', async () => {
    const tls = selfSigned();
    const ca = readFileSync(tls.cert);
    const t = await startApp({ server: { tls } });
    try {
      assert.match(t.wsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
      // A client that trusts only this certificate.
      class TrustingWebSocket extends WebSocket {
        constructor(url: string) {
          super(url, { ca });
        }
      }
      const client = new CameraServiceClient({
        url: t.wsUrl,
        WebSocket: TrustingWebSocket as unknown as WebSocketConstructor,
        authToken: await t.token('admin'),
      });
      await client.connect();
      assert.equal(await client.ping(), 'pong');
      assert.equal((await client.getServerInfo()).name, 'MediaMTX Camera Service');
      await client.close();

      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(t.wsUrl.replace('wss', 'https').replace('/ws', '/no-such-page'), { ca }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      assert.equal(status, 404, 'HTTPS answers on the API port');

      const untrusting = new CameraServiceClient({ url: t.wsUrl });
      await assert.rejects(untrusting.connect(), /self-signed|certificate/);
    } finally {
      await t.stop();
    }
  });
});
