/**
 * The SDK's browser build in Debian's Chromium (driven by playwright-core; no browser is
 * downloaded): a page imports dist/src/index.js as it is (a bare import would fail to
 * load), connects to the running service, calls typed methods, takes a snapshot and
 * downloads it as a Blob whose bytes equal the file. The page, the SDK and the service
 * share one origin through a loopback HTTP server that serves the first two and passes
 * /ws and /files/ through to the service (the service sends no CORS headers).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/repo.js';
import { startApp, type TestApp } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const SDK_DIST = join(REPO_ROOT, 'packages', 'sdk', 'dist', 'src');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>SDK in a browser</title>
<script type="module">
  import { CameraServiceClient, RpcError, SDK_METHODS } from '/sdk/index.js';
  const token = new URLSearchParams(location.search).get('token');
  const run = async () => {
    const client = new CameraServiceClient({ url: 'ws://' + location.host + '/ws', authToken: token });
    const events = [];
    client.on('connected', () => events.push('connected'));
    await client.connect();
    const ping = await client.ping();
    const list = await client.getCameraList();
    const device = list.cameras[0].device;
    const shot = await client.takeSnapshot({ device });
    let progress = 0;
    const download = await client.downloadFile('snapshots', shot.filename, {
      onProgress: (p) => (progress = p.received),
    });
    const bytes = new Uint8Array(await download.blob.arrayBuffer());
    let missing = null;
    try {
      await client.getCameraStatus({ device: '/dev/video99' });
    } catch (error) {
      missing = { isRpcError: error instanceof RpcError, kind: error.kind, code: error.code };
    }
    await client.close();
    return {
      ping,
      events,
      methods: Object.values(SDK_METHODS).filter((m) => typeof client[m] !== 'function'),
      filename: shot.filename,
      fileSize: shot.file_size,
      size: download.size,
      blobSize: download.blob.size,
      type: download.blob.type,
      progress,
      bytes: Array.from(bytes),
      missing,
    };
  };
  window.result = run().catch((error) => ({ error: String(error && error.stack || error) }));
</script>`;

/** Serves the page and the SDK, and passes /ws (upgrades) and /files/ to the service. */
async function sameOrigin(target: URL) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    if (url.pathname.startsWith('/sdk/')) {
      const file = normalize(join(SDK_DIST, url.pathname.slice(5)));
      if (!file.startsWith(SDK_DIST) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
      return;
    }
    if (url.pathname.startsWith('/files/')) {
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const end = () => {
      socket.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    socket.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the SDK in Chromium', () => {
  let t: TestApp;
  let browser: Browser | undefined;
  let origin: Awaited<ReturnType<typeof sameOrigin>> | undefined;
  before(async () => {
    t = await startApp({
      cameras: [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
    });
  });
  after(async () => {
    await browser?.close();
    await origin?.close();
    await t.stop();
  });

  it('a page imports the build as it is, calls methods and downloads a snapshot as a Blob', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      ctx.skip(
        `${CHROMIUM} is missing: npm test installs Debian's chromium (scripts/bootstrap.mjs)`,
      );
      return;
    }
    origin = await sameOrigin(new URL(t.wsUrl));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${origin.url}?token=${encodeURIComponent(await t.token('operator'))}`);
    await page.waitForFunction(() => 'result' in globalThis, undefined, { timeout: 30_000 });
    const result = (await page.evaluate(
      () => (globalThis as unknown as { result: unknown }).result,
    )) as {
      error?: string;
      ping: string;
      events: string[];
      methods: string[];
      filename: string;
      fileSize: number;
      size: number;
      blobSize: number;
      type: string;
      progress: number;
      bytes: number[];
      missing: { isRpcError: boolean; kind: string; code: number };
    };
    assert.deepEqual(errors, []);
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.ping, 'pong');
    assert.deepEqual(result.events, ['connected']);
    assert.deepEqual(result.methods, [], 'every generated method exists in the browser build');
    assert.equal(result.size, result.fileSize);
    assert.equal(result.blobSize, result.fileSize);
    assert.equal(result.progress, result.fileSize);
    assert.equal(result.type, 'image/jpeg');
    const onDisk = readFileSync(join(t.config.storage.snapshots_dir, result.filename));
    assert.deepEqual(Buffer.from(result.bytes), onDisk);
    assert.deepEqual(result.missing, { isRpcError: true, kind: 'camera_not_found', code: -1000 });
  });

  it('the browser entry imports nothing but its own modules', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(join(SDK_DIST, file), 'utf8');
      for (const match of source.matchAll(
        /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm,
      )) {
        const spec = match[1]!;
        assert.match(spec, /^\.\.?\//, `${file} imports ${spec}: the browser cannot resolve it`);
        visit(normalize(join(file, '..', spec)));
      }
    };
    visit('index.js');
    assert.ok(seen.has('client.js') && seen.has('download.js'));
    assert.ok(!seen.has('node.js'));
  });
});
