/**
 * The dashboard against the real service, for the end-to-end tests and the bench: the app
 * bundled from the current sources, the service in-process (startApp) with a test-pattern
 * camera that draws the wall-clock code, and Debian's Chromium driven by playwright-core
 * (never a downloaded browser). Glass-to-glass latency is read back from the video: each
 * presented frame is drawn on a canvas, its clock strip decoded (the server's
 * decodeClockCode), and compared with the time the frame was shown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startApp, type TestApp } from '@camera-service/server/dist/test/helpers/app.js';
import { decodeClockCode } from '@camera-service/server/dist/src/cameras/clock-code.js';
import { bundle } from '../../scripts/bundle.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
export const FAKE_V4L2_CTL = join(REPO_ROOT, 'packages/server/test/fixtures/fake-v4l2-ctl');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

export interface Dashboard {
  t: TestApp;
  /** http://127.0.0.1:<port>/ */
  baseUrl: string;
  browser: Browser;
  stop(): Promise<void>;
}

type Overrides = Parameters<typeof startApp>[0];

/** The bundle, the service with test0 (320x240, 10 fps, clock code) and Chromium. */
export async function startDashboard(overrides: Overrides = {}): Promise<Dashboard> {
  const dist = mkdtempSync(join(tmpdir(), 'camera-service-web-'));
  await bundle(dist);
  const t = await startApp({
    cameras: [
      {
        id: 'test0',
        name: 'Test pattern',
        test_pattern: { size: '320x240', fps: 10, clock: false, clock_code: true },
      },
    ],
    ...overrides,
    server: { dashboard_dir: dist, ...(overrides.server ?? {}) } as never,
  });
  const baseUrl = `${t.wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '')}/`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  } catch (error) {
    await t.stop();
    throw new Error(
      `Cannot start Chromium at ${CHROMIUM} (npm test installs it: apt-get install chromium): ${(error as Error).message}`,
    );
  }
  return {
    t,
    baseUrl,
    browser,
    async stop() {
      await browser.close();
      await t.stop();
      rmSync(dist, { recursive: true, force: true });
    },
  };
}

/** A fresh browser profile (its own cookies) at a window size. */
export function newContext(
  browser: Browser,
  viewport = { width: 1280, height: 800 },
): Promise<BrowserContext> {
  return browser.newContext({ viewport });
}

/** Opens the dashboard (with `query`, e.g. `?player=hls`) and signs in with `token`. */
export async function signIn(
  page: Page,
  baseUrl: string,
  token: string,
  query = '',
): Promise<void> {
  await page.goto(`${baseUrl}${query}`);
  await page.getByLabel('JWT or API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10_000 });
}

const videoOf = (stream: string) => `video[data-stream="${stream}"]`;

/** Waits for the stream's video to play; gives its path and time to first frame. */
export async function waitPlaying(
  page: Page,
  stream: string,
  timeoutMs = 40_000,
): Promise<{ path: string; firstFrameMs: number; videoWidth: number }> {
  const selector = videoOf(stream);
  await page.waitForFunction(
    (s) => {
      const v = document.querySelector<HTMLVideoElement>(s);
      return v !== null && v.dataset.state === 'playing' && v.videoWidth > 0;
    },
    selector,
    { timeout: timeoutMs },
  );
  return page.$eval(selector, (v) => {
    const video = v as HTMLVideoElement;
    return {
      path: video.dataset.path ?? '',
      firstFrameMs: Number(video.dataset.firstFrameMs ?? NaN),
      videoWidth: video.videoWidth,
    };
  });
}

/** Waits until the stream's video time has moved on by `seconds`. */
export async function waitAdvance(page: Page, stream: string, seconds = 1): Promise<number> {
  const selector = videoOf(stream);
  const start = await page.$eval(selector, (v) => (v as HTMLVideoElement).currentTime);
  await page.waitForFunction(
    ([s, t0, d]) => {
      const v = document.querySelector<HTMLVideoElement>(s as string);
      return v !== null && v.currentTime >= (t0 as number) + (d as number);
    },
    [selector, start, seconds] as const,
    { timeout: 15_000 },
  );
  return page.$eval(selector, (v) => (v as HTMLVideoElement).currentTime - 0);
}

interface FrameSample {
  shownAt: number;
  width: number;
  pixels: number[];
}

/**
 * Glass-to-glass latency of `samples` presented frames (ms): the time each frame was
 * shown, less the wall-clock time its clock strip says it was made. Frames whose strip
 * does not decode are left out.
 */
export async function measureLatency(page: Page, stream: string, samples = 20): Promise<number[]> {
  const frames: FrameSample[] = await page.$eval(
    videoOf(stream),
    (v, count) =>
      new Promise<FrameSample[]>((resolve, reject) => {
        const video = v as HTMLVideoElement & {
          requestVideoFrameCallback(
            cb: (now: number, meta: { expectedDisplayTime: number }) => void,
          ): number;
        };
        const canvas = document.createElement('canvas');
        const width = video.videoWidth;
        const strip = Math.max(1, Math.floor(width / 40));
        canvas.width = width;
        canvas.height = strip;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        if (!ctx) return reject(new Error('no 2d canvas'));
        const out: FrameSample[] = [];
        const timer = setTimeout(() => resolve(out), 20_000);
        const onFrame = (_now: number, meta: { expectedDisplayTime: number }) => {
          const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
          ctx.drawImage(video, 0, 0, width, strip, 0, 0, width, strip);
          const data = ctx.getImageData(0, 0, width, strip).data;
          out.push({ shownAt, width, pixels: Array.from(data) });
          if (out.length >= (count as number)) {
            clearTimeout(timer);
            resolve(out);
          } else video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
      }),
    samples,
  );
  const latencies: number[] = [];
  for (const frame of frames) {
    const made = decodeClockCode(frame.pixels, frame.width, 4, frame.shownAt);
    if (made !== null) latencies.push(frame.shownAt - made);
  }
  return latencies;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
