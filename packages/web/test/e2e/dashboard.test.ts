/**
 * The dashboard end to end: Debian's Chromium (playwright-core) against the real service
 * with a test-pattern camera. Sign-in as viewer and operator; test0 plays on the
 * low-latency path (MSE in embedded mode) and on HLS, with the glass-to-glass latency
 * measured from the clock code in the picture; a snapshot and a 3 s recording reach the
 * files page, preview (the recording plays and seeks through HTTP Range) and are deleted;
 * a hot-plugged camera's tile appears and goes without a reload; a viewer has no controls
 * and a forged call on its session is refused; sign-out ends stream and file access.
 * Screenshots go to a temporary directory, or to docs/images with UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  FAKE_V4L2_CTL,
  REPO_ROOT,
  measureLatency,
  median,
  newContext,
  signIn,
  startDashboard,
  waitAdvance,
  waitPlaying,
  type Dashboard,
} from './harness.js';

const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(REPO_ROOT, 'docs', 'images')
    : mkdtempSync(join(tmpdir(), 'dashboard-shots-'));
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

describe('the dashboard in Chromium', () => {
  let d: Dashboard;
  before(async () => {
    d = await startDashboard({
      camera: { probe_command: FAKE_V4L2_CTL, debounce_ms: 150, poll_interval: 0.5 },
    });
  });
  after(async () => {
    await d?.stop();
    if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(SHOTS, { recursive: true, force: true });
  });

  it('serves the app at / with a sign-in form and no credential in any URL', async () => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    const token = await d.t.token('viewer');
    await signIn(page, d.baseUrl, token);
    assert.ok(urls.length > 0);
    assert.equal(urls.filter((u) => u.includes(token)).length, 0, 'the credential went into a URL');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'camera_session');
    assert.ok(session, 'no session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.notEqual(session.value, token);
    await context.close();
  });

  it('plays test0 for a viewer on the low-latency path, with no camera controls, at phone width', async (t) => {
    const context = await newContext(d.browser, { width: 375, height: 740 });
    const page = await context.newPage();
    await signIn(page, d.baseUrl, await d.t.token('viewer'), '?player=mse');
    const playing = await waitPlaying(page, 'test0');
    assert.equal(playing.path, 'mse');
    assert.equal(playing.videoWidth, 320);
    await waitAdvance(page, 'test0', 1);
    const latencies = await measureLatency(page, 'test0', 20);
    assert.ok(latencies.length >= 10, `only ${latencies.length} frames had a readable clock code`);
    t.diagnostic(
      `MSE: first frame ${Math.round(playing.firstFrameMs)} ms, glass-to-glass median ${Math.round(median(latencies))} ms (${latencies.length} frames)`,
    );
    assert.equal(await page.getByRole('button', { name: 'Snapshot' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Record/ }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0);
    await shot(page, 'dashboard-phone');
    const noSideScroll = () =>
      page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(await noSideScroll(), 'the grid scrolls sideways at 375 px');
    // A forged call on this page's session (its cookie opens the socket) is refused.
    const reply = await page.evaluate(
      () =>
        new Promise<{ error?: { code: number; message: string } }>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/ws`);
          ws.onopen = () =>
            ws.send(
              JSON.stringify({
                jsonrpc: '2.0',
                id: 1,
                method: 'take_snapshot',
                params: { device: 'test0' },
              }),
            );
          ws.onmessage = (e) => {
            resolve(JSON.parse(String(e.data)));
            ws.close();
          };
          ws.onerror = () => reject(new Error('socket failed'));
        }),
    );
    assert.equal(reply.error?.code, -32003, JSON.stringify(reply));
    // The files page has no delete for a viewer.
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('tab', { name: 'Recordings' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
    assert.ok(await noSideScroll(), 'the files page scrolls sideways at 375 px');
    await context.close();
  });

  it('plays test0 on HLS when asked to', async (t) => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    await signIn(page, d.baseUrl, await d.t.token('viewer'), '?player=hls');
    const playing = await waitPlaying(page, 'test0', 60_000);
    assert.equal(playing.path, 'hls');
    assert.equal(playing.videoWidth, 320);
    await waitAdvance(page, 'test0', 1);
    const latencies = await measureLatency(page, 'test0', 20);
    assert.ok(latencies.length >= 10, `only ${latencies.length} frames had a readable clock code`);
    t.diagnostic(
      `HLS: first frame ${Math.round(playing.firstFrameMs)} ms, glass-to-glass median ${Math.round(median(latencies))} ms (${latencies.length} frames)`,
    );
    await context.close();
  });

  describe('as an operator', () => {
    let page: Page;
    let snapshotName = '';
    before(async () => {
      const context = await newContext(d.browser);
      page = await context.newPage();
      await signIn(page, d.baseUrl, await d.t.token('operator'));
      await waitPlaying(page, 'test0');
    });
    after(() => page.context().close());

    it('takes a snapshot that shows, then appears in files and previews', async () => {
      await shot(page, 'dashboard-grid');
      await page.getByRole('button', { name: 'Snapshot' }).click();
      const dialog = page.getByRole('dialog', { name: /Snapshot of/ });
      const img = dialog.locator('img.preview');
      await page.waitForFunction(
        () =>
          (document.querySelector('dialog img.preview') as HTMLImageElement | null)
            ?.naturalWidth === 320,
        undefined,
        { timeout: 15_000 },
      );
      snapshotName = (await img.getAttribute('alt'))?.replace(/^Snapshot /, '') ?? '';
      assert.match(snapshotName, /\.jpg$/);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('link', { name: 'Files' }).click();
      await page.getByRole('tab', { name: 'Snapshots' }).click();
      const row = page.locator(`li.file[data-filename="${snapshotName}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.getByRole('button', { name: 'Preview' }).click();
      await page.waitForFunction(
        () =>
          (document.querySelector('dialog img.preview') as HTMLImageElement | null)
            ?.naturalWidth === 320,
        undefined,
        { timeout: 10_000 },
      );
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    });

    it('records 3 s; the recording appears, plays, seeks and is deleted', async () => {
      await page.getByRole('link', { name: 'Cameras' }).click();
      await page.getByRole('button', { name: 'Record…' }).click();
      await page.getByLabel(/Duration in seconds/).fill('3');
      await page.getByRole('button', { name: 'Start recording' }).click();
      await page.getByLabel('Recording').first().waitFor({ timeout: 10_000 });
      // recording_status_update STOPPED turns the badge back.
      await page.getByText('Not recording').first().waitFor({ timeout: 20_000 });
      await page.getByRole('link', { name: 'Files' }).click();
      await page.getByRole('tab', { name: 'Recordings' }).click();
      const row = page.locator('li.file').first();
      await row.waitFor({ timeout: 10_000 });
      const name = await row.getAttribute('data-filename');
      assert.ok(name);
      await row.getByRole('button', { name: 'Preview' }).click();
      const result = await page.$eval(
        'dialog video.preview',
        (v) =>
          new Promise<{ duration: number; width: number; played: number; seeked: number }>(
            (resolve, reject) => {
              const video = v as HTMLVideoElement;
              video.muted = true;
              const timer = setTimeout(
                () => reject(new Error('the recording did not play and seek')),
                20_000,
              );
              const go = async () => {
                await video.play();
                const start = video.currentTime;
                while (video.currentTime < start + 0.5) await new Promise((r) => setTimeout(r, 50));
                const played = video.currentTime;
                video.pause();
                video.addEventListener(
                  'seeked',
                  () => {
                    clearTimeout(timer);
                    resolve({
                      duration: video.duration,
                      width: video.videoWidth,
                      played,
                      seeked: video.currentTime,
                    });
                  },
                  { once: true },
                );
                video.currentTime = Math.max(0, video.duration - 1);
              };
              if (video.readyState >= 1) void go();
              else video.addEventListener('loadedmetadata', () => void go(), { once: true });
            },
          ),
      );
      assert.equal(result.width, 320);
      assert.ok(result.duration > 2 && result.duration < 5, `duration ${result.duration}`);
      assert.ok(result.played >= 0.5);
      assert.ok(
        Math.abs(result.seeked - (result.duration - 1)) < 0.3,
        `seeked to ${result.seeked}`,
      );
      await shot(page, 'dashboard-files');
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
      await row.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Delete this file?' })
        .getByRole('button', { name: 'Delete' })
        .click();
      await page
        .locator(`li.file[data-filename="${name}"]`)
        .waitFor({ state: 'detached', timeout: 10_000 });
      const client = await d.t.connect({ as: 'viewer' });
      const list = await client.call('list_recordings', {});
      assert.equal(list.files.filter((f) => f.filename === name).length, 0);
    });

    it('shows a hot-plugged camera without a reload, and drops it when unplugged', async () => {
      await page.getByRole('link', { name: 'Cameras' }).click();
      const dev = d.t.config.camera.device_dir;
      const sys = d.t.config.camera.sysfs_dir;
      mkdirSync(join(dev, 'v4l', 'by-id'), { recursive: true });
      mkdirSync(join(sys, 'video4'), { recursive: true });
      writeFileSync(join(sys, 'video4', 'name'), 'EMEET SmartCam S800\n');
      writeFileSync(
        join(dev, '.video4.tmp'),
        'emeet-smartcam-s800__all.txt\nemeet-smartcam-s800__list-formats-ext.txt\n',
      );
      renameSync(join(dev, '.video4.tmp'), join(dev, 'video4'));
      const tile = page.locator(`li.tile[data-device="${join(dev, 'video4')}"]`);
      await tile.waitFor({ timeout: 15_000 });
      rmSync(join(dev, 'video4'), { force: true });
      rmSync(join(sys, 'video4'), { recursive: true, force: true });
      await tile.waitFor({ state: 'detached', timeout: 15_000 });
    });

    it('shows a tile that loses its stream, and recovers by itself', async () => {
      await page.getByRole('link', { name: 'Cameras' }).click();
      await waitPlaying(page, 'test0');
      const producer = d.t.app.mse.producers().get('test0');
      assert.ok(producer?.pid, 'no live stream producer for test0');
      // Every state the player publishes from now on.
      await page.$eval('video[data-stream="test0"]', (v) => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        new MutationObserver(() => seen.push((v as HTMLVideoElement).dataset.state ?? '')).observe(
          v,
          { attributes: true, attributeFilter: ['data-state'] },
        );
      });
      process.kill(producer.pid, 'SIGKILL');
      await page.waitForFunction(
        () => {
          const seen = (window as unknown as { seen: string[] }).seen;
          const lost = seen.indexOf('reconnecting');
          return lost >= 0 && seen.indexOf('playing', lost) > lost;
        },
        undefined,
        { timeout: 30_000 },
      );
      await waitAdvance(page, 'test0', 1);
    });

    it('shows a camera page with capabilities, stream URLs to copy and metrics', async () => {
      await page.getByRole('link', { name: 'Cameras' }).click();
      await page.getByRole('link', { name: 'Test pattern' }).click();
      await page.getByRole('heading', { name: 'Test pattern', level: 1 }).waitFor();
      const hls = await page.getByRole('textbox', { name: 'HLS (this port)' }).inputValue();
      assert.equal(hls, new URL('streams/test0/index.m3u8', d.baseUrl).href);
      const rtsp = await page.getByRole('textbox', { name: 'RTSP', exact: true }).inputValue();
      assert.match(rtsp, /^rtsp:\/\/127\.0\.0\.1:\d+\/test0$/);
      assert.match(
        await page.getByRole('textbox', { name: 'HLS with token' }).inputValue(),
        /\?token=\{token\}$/,
      );
      await page.getByText('Readers').waitFor({ timeout: 10_000 });
      assert.match(await page.locator('dl.facts').first().innerText(), /test_pattern/);
      await waitPlaying(page, 'test0');
      await page.getByRole('link', { name: '← All cameras' }).click();
      await waitPlaying(page, 'test0');
    });

    it('ends stream and file access at sign-out', async () => {
      const cookie = (await page.context().cookies()).find((c) => c.name === 'camera_session');
      assert.ok(cookie);
      const headers = { Cookie: `camera_session=${cookie.value}` };
      const m3u8 = new URL('streams/test0/index.m3u8', d.baseUrl);
      const file = new URL(`files/snapshots/${encodeURIComponent(snapshotName)}`, d.baseUrl);
      assert.equal((await fetch(m3u8, { headers })).status, 200);
      assert.equal((await fetch(file, { headers })).status, 200);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.equal((await fetch(m3u8, { headers })).status, 401);
      assert.equal((await fetch(file, { headers })).status, 401);
      const inPage = await page.evaluate(async (f) => (await fetch(f)).status, file.pathname);
      assert.equal(inPage, 401);
    });
  });

  it('works from the keyboard: sign-in, a dialog opened with Enter and closed with Escape', async () => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    await page.goto(d.baseUrl);
    await page.getByLabel('JWT or API key').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token');
    await page.keyboard.type(await d.t.token('operator'));
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 });
    const record = page.getByRole('button', { name: 'Record…' });
    await record.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: /Record/ });
    await dialog.waitFor();
    assert.equal(
      await page.evaluate(() => document.activeElement?.closest('dialog') !== null),
      true,
      'focus did not move into the dialog',
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // Focus goes back to the button that opened the dialog.
    await page.waitForFunction(() => document.activeElement?.textContent === 'Record…', undefined, {
      timeout: 5000,
    });
    await context.close();
  });

  it('goes back to the sign-in form when the credential expires', async () => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    await signIn(page, d.baseUrl, await d.t.token('viewer', 3));
    await page.getByText('Your session has ended: sign in again.').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('shows a viewer the files with preview and download but no delete', async () => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    await signIn(page, d.baseUrl, await d.t.token('viewer'));
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await page.locator('li.file').first().waitFor({ timeout: 10_000 });
    assert.ok((await page.getByRole('button', { name: 'Preview' }).count()) >= 1);
    assert.ok((await page.getByRole('link', { name: 'Download' }).count()) >= 1);
    assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0);
    await context.close();
  });

  it('lets an admin create, see once and revoke an API key', async () => {
    const context = await newContext(d.browser);
    const page = await context.newPage();
    await signIn(page, d.baseUrl, await d.t.token('admin'));
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Name').fill('kiosk');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByLabel('The new API key').inputValue();
    assert.ok(key.length >= 20);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();
    const row = page.getByRole('row', { name: /kiosk/ });
    await row.waitFor();
    await page.getByText('Status and health').waitFor();
    await shot(page, 'dashboard-admin');
    // The new key signs in, then stops working once revoked.
    const other = await newContext(d.browser);
    const viewer = await other.newPage();
    await signIn(viewer, d.baseUrl, key);
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke this key?' })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await row.getByText('revoked').waitFor();
    const status = await viewer.evaluate(async () => (await fetch('/session')).status);
    assert.equal(status, 401);
    await other.close();
    await context.close();
  });
});
