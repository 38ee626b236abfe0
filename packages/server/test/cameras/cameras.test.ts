/**
 * Cameras in the running service: hot-plug on a temporary device tree (the node is a
 * file; v4l2-ctl is replaced by test/fixtures/fake-v4l2-ctl, which replays outputs
 * captured from real cameras), notifications at every authenticated client, the camera
 * methods, and a declared test pattern streaming for real through the media server.
 */
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RpcError, type CameraServiceClient } from '@camera-service/sdk';
import { startApp, type TestApp } from '../helpers/app.js';
import { startMediaServer } from '../helpers/media.js';

const run = promisify(execFile);
const FAKE_V4L2_CTL = fileURLToPath(
  new URL('../../../test/fixtures/fake-v4l2-ctl', import.meta.url),
);
const EMEET = ['emeet-smartcam-s800__all.txt', 'emeet-smartcam-s800__list-formats-ext.txt'];
const EMEET_META = [
  'emeet-smartcam-s800-metadata-node__all.txt',
  'emeet-smartcam-s800-metadata-node__list-formats-ext.txt',
];
const MS2109 = ['macrosilicon-ms2109-hdmi-capture__all-list-formats-ext.txt'];
/** An `--all` output alone: the driver information and the current format, no format list. */
const FHD_ALL_ONLY = ['fhd-camera-microphone-1bcf-28c4__all.txt'];

interface Camera {
  device: string;
  status: string;
  name: string;
  resolution: string;
  fps: number;
  streams: {
    rtsp: string | null;
    webrtc: string | null;
    hls: string | null;
    credential: 'viewer' | null;
    token_urls: { rtsp: string; webrtc: string | null; hls: string } | null;
  };
  capabilities: { formats: string[]; resolutions: string[]; frame_rates: number[] };
  stable_id: string | null;
  driver: string | null;
  capture_format: string | null;
  error: string | null;
  metrics?: { bytes_sent: number; readers: number; uptime: number };
}

/** Every camera_status_update a client receives, with a way to wait for the next ones. */
class Updates {
  readonly seen: Camera[] = [];
  #waiters: { match: (c: Camera) => boolean; resolve: (c: Camera) => void }[] = [];
  constructor(client: CameraServiceClient) {
    client.on('notification', (method, params) => {
      if (method !== 'camera_status_update') return;
      const camera = params as Camera;
      this.seen.push(camera);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(camera)) return true;
        w.resolve(camera);
        return false;
      });
    });
  }
  /** The first update (already seen from index `from`, or coming) that matches. */
  next(match: (c: Camera) => boolean, from = 0, timeoutMs = 5000): Promise<Camera> {
    const seen = this.seen.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('no such camera_status_update in time')),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      });
    });
  }
  for(device: string): string[] {
    return this.seen.filter((c) => c.device === device).map((c) => c.status);
  }
}

describe('camera hot-plug and the camera API', () => {
  let t: TestApp;
  let dev: string;
  let sys: string;
  let viewer: CameraServiceClient;
  let operator: CameraServiceClient;
  let anonymous: CameraServiceClient;
  let a: Updates;
  let b: Updates;
  let nobody: Updates;
  const node = (n: number) => join(dev, `video${n}`);

  /** The node appears whole, as mknod makes it: written aside, then renamed into place. */
  function appear(n: number, content: string): void {
    writeFileSync(join(dev, `.video${n}.tmp`), content);
    renameSync(join(dev, `.video${n}.tmp`), node(n));
  }
  function plug(n: number, fixtures: string[], name = 'camera'): void {
    mkdirSync(join(sys, `video${n}`), { recursive: true });
    writeFileSync(join(sys, `video${n}`, 'name'), `${name}\n`);
    appear(n, `${fixtures.join('\n')}\n`);
  }
  function unplug(n: number): void {
    rmSync(node(n), { force: true });
    rmSync(join(sys, `video${n}`), { recursive: true, force: true });
  }

  before(async () => {
    t = await startApp({
      camera: {
        probe_command: FAKE_V4L2_CTL,
        debounce_ms: 150,
        poll_interval: 0.5,
      },
      cameras: [
        {
          id: 'test0',
          name: 'Test pattern',
          test_pattern: { size: '320x240', fps: 10, clock: true },
        },
      ],
    });
    dev = t.config.camera.device_dir;
    sys = t.config.camera.sysfs_dir;
    mkdirSync(join(dev, 'v4l', 'by-id'), { recursive: true });
    mkdirSync(sys, { recursive: true });
    viewer = await t.connect({ as: 'viewer' });
    operator = await t.connect({ as: 'operator' });
    anonymous = await t.connect({ as: null });
    a = new Updates(viewer);
    b = new Updates(operator);
    nobody = new Updates(anonymous);
  });
  after(() => t.stop());

  it('lists the declared test pattern with stream URLs on the host the client used', async () => {
    const list = (await viewer.getCameraList()) as {
      cameras: Camera[];
      total: number;
      connected: number;
    };
    assert.equal(list.total, 1);
    assert.equal(list.connected, 1);
    const [camera] = list.cameras;
    const { rtsp, hls } = t.app.media.ports;
    assert.deepEqual(
      { ...camera, capabilities: undefined, recording: undefined },
      {
        device: 'test0',
        status: 'CONNECTED',
        name: 'Test pattern',
        resolution: '320x240',
        fps: 10,
        streams: {
          rtsp: `rtsp://127.0.0.1:${rtsp}/test0`,
          webrtc: null,
          hls: `http://127.0.0.1:${hls}/test0/index.m3u8`,
          credential: 'viewer',
          token_urls: {
            rtsp: `rtsp://127.0.0.1:${rtsp}/test0?token={token}`,
            webrtc: null,
            hls: `http://127.0.0.1:${hls}/test0/index.m3u8?token={token}`,
          },
        },
        capabilities: undefined,
        recording: undefined,
        kind: 'test_pattern',
        stream_path: 'test0',
        stable_id: null,
        driver: null,
        bus: null,
        capture_format: null,
        error: null,
        stream_ready: false,
      },
    );
  });

  it('gives each client stream URLs on the host name it connected with', async () => {
    const url = new URL(t.wsUrl);
    url.hostname = 'localhost';
    const local = await t.connect({ as: 'viewer', url: url.href });
    const list = (await local.getCameraList()) as { cameras: Camera[] };
    const { rtsp, hls } = t.app.media.ports;
    assert.deepEqual(list.cameras[0]?.streams, {
      rtsp: `rtsp://localhost:${rtsp}/test0`,
      webrtc: null,
      hls: `http://localhost:${hls}/test0/index.m3u8`,
      credential: 'viewer',
      token_urls: {
        rtsp: `rtsp://localhost:${rtsp}/test0?token={token}`,
        webrtc: null,
        hls: `http://localhost:${hls}/test0/index.m3u8?token={token}`,
      },
    });
  });

  it('a plugged webcam is one CONNECTED at every authenticated client; its metadata node never appears', async () => {
    symlinkSync('../../video0', join(dev, 'v4l', 'by-id', 'usb-EMEET_SmartCam_S800-video-index0'));
    const fromA = a.seen.length;
    const fromB = b.seen.length;
    plug(1, EMEET_META, 'EMEET SmartCam S800 metadata');
    plug(0, EMEET, 'EMEET SmartCam S800');
    const [atA, atB] = await Promise.all([
      a.next((c) => c.device === node(0), fromA),
      b.next((c) => c.device === node(0), fromB),
    ]);
    for (const camera of [atA, atB]) {
      assert.equal(camera.status, 'CONNECTED');
      assert.equal(camera.name, 'EMEET SmartCam S800: EMEET Smar');
      assert.equal(camera.resolution, '640x480');
      assert.equal(camera.fps, 30);
      assert.equal(camera.capture_format, 'YUYV');
      assert.equal(
        camera.stable_id,
        join(dev, 'v4l', 'by-id', 'usb-EMEET_SmartCam_S800-video-index0'),
      );
      assert.equal(camera.streams.rtsp, `rtsp://127.0.0.1:${t.app.media.ports.rtsp}/camera0`);
    }
    // The media path exists, with the capture mode in its ffmpeg command.
    const conf = await t.app.media.client.getPathConfig('camera0');
    assert.match(
      conf?.runOnDemand ?? '',
      /-f v4l2 -input_format yuyv422 -video_size 640x480 -framerate 30 -i /,
    );

    const list = (await viewer.getCameraList()) as { cameras: Camera[] };
    assert.deepEqual(
      list.cameras.map((c) => c.device),
      ['test0', node(0)],
      'the metadata node is not a camera',
    );

    const fromA2 = a.seen.length;
    unplug(0);
    unplug(1);
    const gone = await a.next((c) => c.device === node(0), fromA2);
    assert.equal(gone.status, 'DISCONNECTED');
    assert.deepEqual(gone.streams, {
      rtsp: null,
      webrtc: null,
      hls: null,
      credential: null,
      token_urls: null,
    });
    await b.next((c) => c.device === node(0) && c.status === 'DISCONNECTED', fromB);
    assert.equal(await t.app.media.client.getPathConfig('camera0'), null, 'the path is deleted');
    // Exactly one of each, at both clients; none for the metadata node; none for the anonymous client.
    assert.deepEqual(a.for(node(0)), ['CONNECTED', 'DISCONNECTED']);
    assert.deepEqual(b.for(node(0)), ['CONNECTED', 'DISCONNECTED']);
    assert.deepEqual(a.for(node(1)), []);
    assert.deepEqual(nobody.seen, []);
  });

  it('a known but disconnected camera answers -1001, an unknown one -1000', async () => {
    await assert.rejects(viewer.getCameraStatus(node(0)), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, -1001);
      assert.match(error.message, /is disconnected: plug it back in/);
      return true;
    });
    await assert.rejects(viewer.getCameraStatus('/dev/video77'), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, -1000);
      return true;
    });
  });

  it('a re-plug inside the debounce window sends nothing', async () => {
    plug(2, MS2109, 'USB Video');
    await a.next((c) => c.device === node(2) && c.status === 'CONNECTED');
    const from = a.seen.length;
    const logged = t.logs.records.length;
    unplug(2);
    plug(2, MS2109, 'USB Video');
    // Discovery settles on the flapped node once nothing is pending for it: present, as
    // reported, so nothing changed.
    await t.logs.waitFor(
      (r) =>
        t.logs.records.indexOf(r) >= logged &&
        r.msg === 'device node settled' &&
        r.present === true &&
        r.node === node(2),
      5000,
      'the decision on video2',
    );
    // A camera plugged after the decision is the marker: its update comes after any that
    // the flap could have caused.
    plug(4, MS2109, 'USB Video');
    await a.next((c) => c.device === node(4) && c.status === 'CONNECTED', from);
    assert.deepEqual(
      a.seen.slice(from).map((c) => `${c.device.slice(-6)} ${c.status}`),
      ['video4 CONNECTED'],
    );
  });

  it('a camera whose probe fails is listed in ERROR with the reason, and shown by get_camera_status', async () => {
    const from = a.seen.length;
    appear(3, 'FAIL Cannot open device /dev/video3, exiting.\n');
    const camera = await a.next((c) => c.device === node(3), from, 10_000);
    assert.equal(camera.status, 'ERROR');
    assert.match(
      camera.error ?? '',
      /Could not probe .*video3: .*failed: Cannot open device \/dev\/video3, exiting\./,
    );
    const status = (await viewer.getCameraStatus(node(3))) as Camera;
    assert.equal(status.status, 'ERROR');
    assert.equal(status.error, camera.error);
    assert.deepEqual(status.metrics, { bytes_sent: 0, readers: 0, uptime: 0 });
    // What needs a working camera is refused, saying why.
    await assert.rejects(
      operator.request('take_snapshot', { device: node(3) }),
      (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, -1001);
        assert.match(error.message, /is not available: Could not probe/);
        return true;
      },
    );
    const health = (await (await fetch(`${t.healthUrl}/health/cameras`)).json()) as {
      status: string;
    };
    assert.equal(health.status, 'degraded');
  });

  it('a camera whose format list cannot be read is in ERROR, offering its current format', async () => {
    const from = a.seen.length;
    plug(5, FHD_ALL_ONLY, 'FHD Camera');
    const camera = await a.next((c) => c.device === node(5), from, 10_000);
    assert.equal(camera.status, 'ERROR');
    assert.match(
      camera.error ?? '',
      /^Could not probe .*video5: .* listed no formats the service can read: .* Run `.* --device .*video5 --list-formats-ext` to see what the camera reports, then plug it in again\.$/,
    );
    // What --all said: the camera's name and driver, and the format it is set to now.
    assert.equal(camera.name, 'FHD Camera Microphone: FHD Came');
    assert.equal(camera.driver, 'uvcvideo');
    assert.deepEqual(camera.capabilities, {
      formats: ['MJPG'],
      resolutions: ['800x600'],
      frame_rates: [30],
    });
    const status = (await viewer.getCameraStatus(node(5))) as Camera;
    assert.equal(status.status, 'ERROR');
    assert.deepEqual(status.capabilities, camera.capabilities);
    assert.equal(status.streams.rtsp, null);
    await assert.rejects(
      operator.request('start_recording', { device: node(5) }),
      (error: unknown) => error instanceof RpcError && error.code === -1001,
    );
  });

  it('probes again as soon as udev gives the service access to the node, not after the pause', async () => {
    const from = a.seen.length;
    const logged = t.logs.records.length;
    // The node appears as devtmpfs makes it, before udev has set its group and mode.
    appear(
      6,
      `FAIL_UNLESS_MODE 660 Cannot open device ${node(6)}: Permission denied\n${MS2109.join('\n')}\n`,
    );
    await t.logs.waitFor(
      (r) =>
        t.logs.records.indexOf(r) >= logged &&
        r.msg === 'probe attempt failed' &&
        r.node === node(6),
      5000,
      'the first probe of video6 to be refused',
    );
    chmodSync(node(6), 0o660); // udev's rule
    const camera = await a.next((c) => c.device === node(6), from, 5000);
    assert.equal(camera.status, 'CONNECTED');
    assert.ok(
      t.logs.records
        .slice(logged)
        .some((r) => r.msg === 'the node changed: probing it again at once' && r.node === node(6)),
      'the change ended the pause between attempts',
    );
  });

  it('reports the by-id link udev adds after the camera was connected as its stable_id', async () => {
    const from = a.seen.length;
    plug(7, MS2109, 'USB Video');
    const connected = await a.next((c) => c.device === node(7), from);
    assert.equal(connected.status, 'CONNECTED');
    assert.equal(connected.stable_id, null);
    const link = join(dev, 'v4l', 'by-id', 'usb-MACROSILICON_USB_Video-video-index0');
    symlinkSync('../../video7', link);
    const found = await a.next((c) => c.device === node(7) && c.stable_id !== null, from);
    assert.equal(found.stable_id, link);
    assert.equal(found.status, 'CONNECTED');
    const status = (await viewer.getCameraStatus(node(7))) as Camera;
    assert.equal(status.stable_id, link);
  });

  it('the declared test pattern streams for real, and its metrics move when a reader attaches', async () => {
    const camera = (await viewer.getCameraStatus('test0')) as Camera;
    assert.deepEqual(camera.metrics, { bytes_sent: 0, readers: 0, uptime: 0 });
    // Watching takes a viewer credential, here in the query.
    const url = camera.streams.token_urls!.rtsp.replace('{token}', await t.token('viewer'));
    const { stdout } = await run(
      'ffprobe',
      [
        ...['-v', 'error', '-rtsp_transport', 'tcp', '-select_streams', 'v:0'],
        ...['-show_entries', 'stream=codec_name,profile,level,width,height'],
        ...['-of', 'json', url],
      ],
      { timeout: 20_000 },
    );
    assert.deepEqual(JSON.parse(stdout).streams[0], {
      codec_name: 'h264',
      profile: 'Constrained Baseline',
      level: 30,
      width: 320,
      height: 240,
    });
    const reader = spawn(
      'ffmpeg',
      ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-f', 'null', '-'],
      {
        stdio: 'ignore',
      },
    );
    try {
      let status = camera;
      const deadline = Date.now() + 10_000;
      while ((status.metrics?.readers ?? 0) < 1 || (status.metrics?.bytes_sent ?? 0) === 0) {
        assert.ok(Date.now() < deadline, 'the reader never showed in the metrics');
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await viewer.getCameraStatus('test0')) as Camera;
      }
      // The ffmpeg reader, and the service's own GOP keeper once the stream is ready.
      assert.ok([1, 2].includes(status.metrics?.readers ?? 0), String(status.metrics?.readers));
      assert.ok((status.metrics?.bytes_sent ?? 0) > 0);
      // Stream ready is announced too.
      const ready = await a.next(
        (c) => c.device === 'test0' && (c as Camera & { stream_ready: boolean }).stream_ready,
        0,
        5000,
      );
      assert.equal(ready.status, 'CONNECTED');
    } finally {
      reader.kill('SIGKILL');
    }
  });
});

describe('cameras behind a public host name', () => {
  it('gives every client stream URLs on server.public_host', async () => {
    const t = await startApp({
      server: { public_host: 'cams.example.org' },
      cameras: [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
    });
    try {
      const client = await t.connect({ as: 'viewer' });
      const camera = (await client.getCameraStatus('test0')) as Camera;
      assert.equal(camera.streams.rtsp, `rtsp://cams.example.org:${t.app.media.ports.rtsp}/test0`);
      assert.equal(
        camera.streams.hls,
        `http://cams.example.org:${t.app.media.ports.hls}/test0/index.m3u8`,
      );
    } finally {
      await t.stop();
    }
  });
});

describe('cameras after the media server comes back', () => {
  it('re-creates the camera paths and tells the clients', async () => {
    const server = await startMediaServer();
    const t = await startApp({
      mediamtx: {
        mode: 'external',
        host: '127.0.0.1',
        api_port: server.apiPort,
        rtsp_port: server.rtspPort,
        health_check_interval_seconds: 0.1,
        backoff_initial_seconds: 0.05,
        backoff_max_seconds: 0.2,
      },
      cameras: [{ id: 'lobby', url: 'rtsp://10.255.0.3/stream' }],
    });
    try {
      const client = await t.connect({ as: 'viewer' });
      const updates = new Updates(client);
      assert.equal(
        (await server.client.getPathConfig('lobby'))?.source,
        'rtsp://10.255.0.3/stream',
      );
      await server.restart();
      await t.app.media.checkNow();
      const camera = await updates.next((c) => c.device === 'lobby');
      assert.equal(camera.status, 'CONNECTED');
      assert.equal(
        (await server.client.getPathConfig('lobby'))?.source,
        'rtsp://10.255.0.3/stream',
      );
    } finally {
      await t.stop();
      await server.stop();
    }
  });
});

describe('a camera override that names the by-id link udev adds late', () => {
  it('connects the camera again, streaming as the override says, once the link is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camera-service-override-'));
    const dev = join(dir, 'dev');
    const link = join(dev, 'v4l', 'by-id', 'usb-MACROSILICON_USB_Video-video-index0');
    mkdirSync(join(dev, 'v4l', 'by-id'), { recursive: true });
    const t = await startApp(
      {
        camera: {
          probe_command: FAKE_V4L2_CTL,
          debounce_ms: 150,
          overrides: [{ device: link, format: 'MJPG', size: '1920x1080', fps: 10 }],
        },
        cameras: [],
      },
      { dir },
    );
    try {
      const updates = new Updates(await t.connect({ as: 'viewer' }));
      const node = join(dev, 'video0');
      writeFileSync(join(dev, '.video0.tmp'), `${MS2109.join('\n')}\n`);
      renameSync(join(dev, '.video0.tmp'), node);
      const first = await updates.next((c) => c.device === node);
      // Before the link: no stable id, so the default mode.
      assert.deepEqual(
        [first.status, first.stable_id, first.resolution],
        ['CONNECTED', null, '640x480'],
      );
      symlinkSync('../../video0', link);
      const again = await updates.next((c) => c.device === node && c.stable_id !== null);
      assert.deepEqual(
        [again.status, again.stable_id, again.resolution, again.fps, again.capture_format],
        ['CONNECTED', link, '1920x1080', 10, 'MJPG'],
      );
      const conf = await t.app.media.client.getPathConfig('camera0');
      assert.match(
        conf?.runOnDemand ?? '',
        /-input_format mjpeg -video_size 1920x1080 -framerate 10 /,
      );
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
