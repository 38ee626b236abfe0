/**
 * Downloads held by clients that stop reading (raw sockets that never read past the
 * headers), from several loopback addresses, through the running service: the share of
 * one address, the cap in all, the idle cut that frees the slots, and the memory they hold.
 */
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers/app.js';
import { until } from './standin.js';

/** A GET that reads the status line, then never reads again. */
function stalledDownload(
  port: number,
  localAddress: string,
  path: string,
  token: string,
): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    });
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d+)/.exec(chunk.toString('latin1'))?.[1]) });
    });
  });
}

/** A whole download, read to the end. */
function download(
  port: number,
  localAddress: string,
  path: string,
  token: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        path,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('downloads held by clients that stop reading', () => {
  let t: TestApp;
  let port: number;
  let token: string;
  const BIG = '/files/recordings/big_2026-01-01_00-00-00_001.mp4';
  const SMALL = '/files/recordings/small_2026-01-01_00-00-00_001.mp4';

  before(async () => {
    t = await startApp({
      server: { max_downloads: 6, max_downloads_per_ip: 4, download_idle_timeout_seconds: 1 },
    });
    port = Number(new URL(t.wsUrl).port);
    token = await t.token('viewer');
    const dir = t.config.storage.recordings_dir;
    // 64 MB that cost no disk: far more than the socket buffers hold.
    writeFileSync(join(dir, 'big_2026-01-01_00-00-00_001.mp4'), '');
    truncateSync(join(dir, 'big_2026-01-01_00-00-00_001.mp4'), 64 * 1024 * 1024);
    writeFileSync(join(dir, 'small_2026-01-01_00-00-00_001.mp4'), Buffer.alloc(100_000, 7));
  });
  after(() => t.stop());

  it('gives an address its share, serves others, cuts the stalled ones after the idle timeout, and frees their slots', async (context) => {
    // Warm up (buffers, code paths), then measure what stalled downloads add.
    assert.equal((await download(port, '127.0.0.1', SMALL, token)).status, 200);
    const rssBefore = process.memoryUsage().rss;
    const logged = t.logs.records.length;
    const stalled: Socket[] = [];
    for (let i = 0; i < 4; i += 1) {
      const held = await stalledDownload(port, '127.0.0.1', BIG, token);
      assert.equal(held.status, 200);
      stalled.push(held.socket);
    }
    const fifth = await download(port, '127.0.0.1', SMALL, token);
    assert.equal(fifth.status, 429);
    assert.equal(fifth.headers['retry-after'], '5');
    assert.match(
      JSON.parse(fifth.body.toString()).error,
      /^This address already has 4 downloads running, the most allowed at once: wait for one to finish, then try again\.$/,
    );
    // Another address is not held back by the first one's share.
    const other = await download(port, '127.0.0.2', SMALL, token);
    assert.equal(other.status, 200);
    assert.equal(other.body.length, 100_000);
    for (let i = 0; i < 2; i += 1) {
      const held = await stalledDownload(port, '127.0.0.2', BIG, token);
      assert.equal(held.status, 200);
      stalled.push(held.socket);
    }
    const full = await download(port, '127.0.0.3', SMALL, token);
    assert.equal(full.status, 503, 'six downloads at once in all');
    assert.equal(full.headers['retry-after'], '1');

    // Each stalled download is cut once its client has taken nothing for 1 s.
    const cuts = () =>
      t.logs.records
        .slice(logged)
        .filter((r) => r.msg === 'download cut: the client took nothing for 1 s');
    await t.logs.waitFor(
      (r) => r.msg === 'download cut: the client took nothing for 1 s',
      10_000,
      'the first cut',
    );
    const rssStalled = process.memoryUsage().rss;
    await until(() => cuts().length === 6, 10_000, 'six cuts');
    const cut = cuts();
    assert.deepEqual(cut.map((r) => r.remote).sort(), [
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.2',
      '127.0.0.2',
    ]);
    assert.ok(cut.every((r) => r.reason === 'idle_timeout' && (r.bytes as number) < 64 << 20));
    // One read buffer (4 MiB) per stalled download, not a read-ahead on top.
    const grown = (rssStalled - rssBefore) / 2 ** 20;
    context.diagnostic(`RSS grew ${grown.toFixed(1)} MiB with six stalled downloads`);
    assert.ok(grown < 6 * 4 + 16, `RSS grew ${grown.toFixed(1)} MiB with six stalled downloads`);

    // The slots are back: the first address downloads again, whole.
    const again = await download(port, '127.0.0.1', SMALL, token);
    assert.equal(again.status, 200);
    assert.equal(again.body.length, 100_000);
    const audits = t.logs.records.filter(
      (r) => r.msg === 'audit: file downloaded' && r.completed === false,
    );
    assert.equal(audits.length, 6, 'each cut download is audited as incomplete');
    assert.ok(audits.every((r) => r.remote === '127.0.0.1' || r.remote === '127.0.0.2'));
    for (const socket of stalled) socket.destroy();

    const refusals = t.logs.records.filter((r) => r.msg.startsWith('download refused'));
    assert.deepEqual(
      refusals.map((r) => [r.reason, r.remote, r.limit]),
      [
        ['ip_download_limit', '127.0.0.1', 4],
        ['download_limit', '127.0.0.3', 6],
      ],
    );
    const metrics = await (await fetch(`${t.healthUrl}/metrics`)).text();
    for (const [reason, count] of [
      ['ip_download_limit', 1],
      ['download_limit', 1],
      ['idle_timeout', 6],
    ] as const) {
      assert.match(
        metrics,
        new RegExp(
          `camera_service_dropped_total\\{listener="download",reason="${reason}"\\} ${count}\\n`,
        ),
      );
    }
  });
});
