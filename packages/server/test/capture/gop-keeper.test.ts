/**
 * The service's light reader that holds an active stream's GOP for warm snapshots: it
 * reads the stream over RTSP, what it holds decodes on its own, and it leaves once it is
 * the stream's only reader and unused, or when the stream ends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { OpenPaths, RtspServer } from '@camera-service/relay';
import { GopKeepers } from '../../src/capture/index.js';
import { testLogger } from '../helpers/media.js';

function publish(url: string) {
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi'],
      ...['-i', 'testsrc2=size=320x240:rate=10', '-t', '30', '-c:v', 'libx264'],
      ...['-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-pix_fmt', 'yuv420p'],
      ...['-f', 'rtsp', '-rtsp_transport', 'tcp', url],
    ],
    { stdio: 'ignore' },
  );
}

async function decode(annexB: Buffer): Promise<string> {
  const child = spawn(
    'ffprobe',
    [
      ...['-v', 'error', '-f', 'h264', '-i', 'pipe:0'],
      ...['-show_entries', 'stream=width,height', '-of', 'csv=p=0'],
    ],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stdin.end(annexB);
  await once(child, 'close');
  return out.trim();
}

describe('GOP keepers', () => {
  const paths = new OpenPaths();
  const server = new RtspServer({ host: '127.0.0.1', port: 0, paths });
  let base: string;
  let publisher: ReturnType<typeof publish>;
  let readers = 1;
  let keepers: GopKeepers;
  let clock = Date.now();

  before(async () => {
    const { port } = await server.start();
    base = `rtsp://127.0.0.1:${port}`;
    const published = once(paths, 'published', { signal: AbortSignal.timeout(15_000) });
    publisher = publish(`${base}/cam`);
    await published;
    keepers = new GopKeepers({
      url: (path) => `${base}/${path}`,
      readers: async () => readers,
      log: testLogger().log,
      idleMs: 1000,
      checkMs: 50,
      now: () => clock,
    });
  });
  after(async () => {
    keepers.stop();
    publisher.kill('SIGKILL');
    await server.stop();
  });

  it('holds the GOP of an active stream, which decodes to the camera picture', async () => {
    const keeper = keepers.acquire('cam')!;
    assert.ok(await keeper.waitWarm(15_000), 'the keeper got a GOP');
    assert.equal(await decode(keeper.annexB()!), '320,240');
    assert.equal(keepers.acquire('cam'), keeper, 'one keeper per path');
  });

  it('stays while others read, and leaves once it is the only reader and unused', async () => {
    const keeper = keepers.get('cam')!;
    readers = 2;
    clock += 5000;
    // Several checks pass: another reader is there, so it stays.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(keeper.closed, false);
    readers = 1;
    const [reason] = (await once(keeper, 'closed', { signal: AbortSignal.timeout(3000) })) as [
      string,
    ];
    assert.match(reason, /idle/);
    assert.equal(keepers.size, 0);
  });

  it('says at once that it cannot get warm when the stream does not exist', async () => {
    const keeper = keepers.acquire('nothing-here')!;
    assert.equal(await keeper.waitWarm(5000), false);
    assert.equal(keeper.annexB(), null);
  });
});
