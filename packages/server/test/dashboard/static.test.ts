/**
 * The built dashboard at `/`: index.html and hashed assets with a strict CSP and their
 * cache headers, nothing outside the directory whatever the target says, the API port's
 * 404 for other paths, a sentence saying how to build when there is no build, and the
 * dashboard URL in the startup log.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type TestApp } from '../helpers/app.js';
import { rawRequest } from '../helpers/raw-http.js';
import { request } from './http.js';

describe('the dashboard app', () => {
  let t: TestApp;
  let port: number;
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'dashboard-'));
    const dist = join(root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Cameras</title>');
    writeFileSync(join(dist, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'outside');
    symlinkSync(join(root, 'secret.txt'), join(dist, 'link.txt'));
    t = await startApp({ server: { dashboard_dir: dist } });
    port = t.app.addresses.api.port;
  });
  after(async () => {
    await t.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict CSP, and hashed assets cached for long', async () => {
    const index = await request(port, 'GET', '/');
    assert.equal(index.status, 200);
    assert.match(index.text, /<title>Cameras/);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    const csp = String(index.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    const asset = await request(port, 'GET', '/assets/app-1a2b3c.js');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.match(String(asset.headers['cache-control']), /max-age=31536000, immutable/);
  });

  it('never serves a file outside the directory', async () => {
    for (const target of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/link.txt',
      '/.hidden',
      '/assets\\..\\..\\secret.txt',
    ]) {
      const reply = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      assert.ok(!reply.text.includes('outside'), `${target} leaked`);
      assert.notEqual(reply.status, 200, target);
    }
    const other = await request(port, 'GET', '/nothing-here');
    assert.equal(other.status, 404);
    assert.match(String(other.json().error), /API port/);
  });

  it('logs the dashboard URL at startup', async () => {
    const line = await t.logs.waitFor((r) => String(r.msg).startsWith('dashboard at http://'));
    assert.equal(line.dashboard_url, `http://127.0.0.1:${port}/`);
    assert.equal(line.built, true);
  });

  it('says how to build when there is no build', async () => {
    const bare = await startApp({ server: { dashboard_dir: join(root, 'none') } });
    try {
      const reply = await request(bare.app.addresses.api.port, 'GET', '/');
      assert.equal(reply.status, 404);
      assert.match(reply.text, /The dashboard is not built: run `npm run build`/);
    } finally {
      await bare.stop();
    }
  });
});
