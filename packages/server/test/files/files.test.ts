/**
 * Files through the running service: the listing methods and their edges, facts from
 * ffprobe on a real recording, deletion, HTTP downloads (whole, ranged, conditional) and
 * a table of path traversal attempts, and the retention policy across a restart.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RpcError, type CameraServiceClient } from '@camera-service/sdk';
import { isMediaName } from '../../src/files/index.js';
import { startApp, type TestApp } from '../helpers/app.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

interface Listed {
  filename: string;
  file_size: number;
  device: string | null;
  download_url: string;
  in_progress: boolean;
}
interface Listing {
  files: Listed[];
  total: number;
  limit: number;
  offset: number;
}

/** A request with its path sent exactly as given (fetch would normalise dot segments). */
function raw(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function rpcCode(call: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof RpcError, String(error));
    return error.code;
  }
}

describe('files through the service', () => {
  let t: TestApp;
  let viewer: CameraServiceClient;
  let operator: CameraServiceClient;
  let admin: CameraServiceClient;
  let port: number;
  let token: string;
  let recording: string;
  const recordings = () => t.config.storage.recordings_dir;
  const snapshots = () => t.config.storage.snapshots_dir;

  before(async () => {
    t = await startApp({ cameras: [CAMERA], mediamtx: { codec: { gop: 5 } } as never });
    viewer = await t.connect({ as: 'viewer' });
    operator = await t.connect({ as: 'operator' });
    admin = await t.connect({ as: 'admin' });
    port = Number(new URL(t.wsUrl).port);
    token = await t.token('viewer');
    // 25 listed recordings, one a second apart, of two cameras; and files never listed.
    const base = Date.parse('2026-01-01T00:00:00Z') / 1000;
    for (let i = 0; i < 25; i += 1) {
      const name = `camera${i % 2}_2026-01-01_00-00-${String(i).padStart(2, '0')}_001.mp4`;
      writeFileSync(join(recordings(), name), Buffer.alloc(100 + i));
      utimesSync(join(recordings(), name), base + i, base + i);
    }
    writeFileSync(join(recordings(), '.partial.mp4'), 'x');
    writeFileSync(join(recordings(), 'readme.txt'), 'x');
    await t.app.files.recordings.rescan();
    // A real one, 2 s long.
    const started = (await operator.request('start_recording', { device: 'test0' })) as {
      filename: string;
    };
    recording = started.filename;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await operator.request('stop_recording', { device: 'test0' });
  });
  after(() => t.stop());

  it('lists newest first, a page at a time, with the total', async () => {
    const page = (await viewer.request('list_recordings', { limit: 10, offset: 1 })) as Listing;
    assert.equal(page.total, 26);
    assert.equal(page.limit, 10);
    assert.equal(page.offset, 1);
    assert.equal(page.files.length, 10);
    // The real recording is the newest (offset 1 skips it); then the 25, newest first.
    assert.equal(page.files[0]?.filename, 'camera0_2026-01-01_00-00-24_001.mp4');
    assert.equal(page.files[9]?.filename, 'camera1_2026-01-01_00-00-15_001.mp4');
    assert.equal(page.files[0]?.file_size, 124);
    assert.equal(
      page.files[0]?.download_url,
      '/files/recordings/camera0_2026-01-01_00-00-24_001.mp4',
    );
    const first = (await viewer.request('list_recordings', { limit: 1 })) as Listing;
    assert.equal(first.files[0]?.filename, recording);
    assert.equal(first.files[0]?.device, 'test0');
    const oldest = (await viewer.request('list_recordings', {
      sort: 'oldest',
      limit: 1,
    })) as Listing;
    assert.equal(oldest.files[0]?.filename, 'camera0_2026-01-01_00-00-00_001.mp4');
  });

  it('handles the edges of paging, and refuses bad values with -32602 naming the param', async () => {
    const past = (await viewer.request('list_recordings', { offset: 500 })) as Listing;
    assert.deepEqual([past.files, past.total], [[], 26]);
    const none = (await viewer.request('list_recordings', { limit: 0 })) as Listing;
    assert.deepEqual([none.files, none.total], [[], 26]);
    const last = (await viewer.request('list_recordings', { offset: 25 })) as Listing;
    assert.equal(last.files.length, 1);
    for (const [params, param] of [
      [{ limit: -1 }, 'limit'],
      [{ limit: 2.5 }, 'limit'],
      [{ limit: 1001 }, 'limit'],
      [{ limit: '10' }, 'limit'],
      [{ offset: -1 }, 'offset'],
      [{ offset: 0.5 }, 'offset'],
      [{ sort: 'random' }, 'sort'],
      [{ page: 2 }, 'page'],
    ] as const) {
      await assert.rejects(viewer.request('list_recordings', params), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, -32602, JSON.stringify(params));
        assert.match(error.message, new RegExp(param));
        return true;
      });
    }
  });

  it('filters by camera, by device or by stream name', async () => {
    const byStream = (await viewer.request('list_recordings', { device: 'camera1' })) as Listing;
    assert.equal(byStream.total, 12);
    assert.ok(byStream.files.every((f) => f.filename.startsWith('camera1_')));
    const declared = (await viewer.request('list_recordings', { device: 'test0' })) as Listing;
    assert.deepEqual(
      declared.files.map((f) => f.filename),
      [recording],
    );
  });

  it('reads a real recording’s facts with ffprobe', async () => {
    const info = (await viewer.request('get_recording_info', { filename: recording })) as {
      duration: number;
      codec: string;
      resolution: string;
      file_size: number;
      device: string;
    };
    assert.ok(Math.abs(info.duration - 2) <= 0.6, `${info.duration} s`);
    assert.equal(info.codec, 'h264');
    assert.equal(info.resolution, '320x240');
    assert.equal(info.file_size, readFileSync(join(recordings(), recording)).length);
    assert.equal(info.device, 'test0');
    // Now known, the listing carries the duration too.
    const listed = (await viewer.request('list_recordings', { limit: 1 })) as {
      files: { duration?: number }[];
    };
    assert.equal(listed.files[0]?.duration, info.duration);
  });

  it('reads a snapshot’s resolution, and answers -1004 and -1011', async () => {
    const shot = (await operator.request('take_snapshot', { device: 'test0' })) as {
      filename: string;
    };
    const info = (await viewer.request('get_snapshot_info', { filename: shot.filename })) as {
      resolution: string;
      download_url: string;
    };
    assert.equal(info.resolution, '320x240');
    assert.equal(info.download_url, `/files/snapshots/${shot.filename}`);
    const listed = (await viewer.request('list_snapshots', {})) as Listing;
    assert.ok(
      listed.files.some((f) => f.filename === shot.filename),
      'listed at once',
    );
    assert.equal(
      await rpcCode(viewer.request('get_snapshot_info', { filename: 'gone.jpg' })),
      -1004,
    );
    assert.equal(
      await rpcCode(viewer.request('get_recording_info', { filename: '../etc/passwd' })),
      -1011,
    );
    assert.equal(await rpcCode(viewer.request('get_recording_info', { filename: 'x.jpg' })), -1011);
  });

  it('downloads a recording byte for byte, whole and by ranges', async () => {
    const path = `/files/recordings/${recording}`;
    const bytes = readFileSync(join(recordings(), recording));
    const auth = { authorization: `Bearer ${token}` };
    const whole = await raw(port, path, auth);
    assert.equal(whole.status, 200);
    assert.equal(sha(whole.body), sha(bytes));
    assert.equal(whole.headers['content-type'], 'video/mp4');
    assert.equal(Number(whole.headers['content-length']), bytes.length);
    assert.equal(whole.headers['content-disposition'], `attachment; filename="${recording}"`);
    assert.equal(whole.headers['accept-ranges'], 'bytes');
    const etag = String(whole.headers.etag);
    const lastModified = String(whole.headers['last-modified']);

    const part = await raw(port, path, { ...auth, range: 'bytes=100-1099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 100-1099/${bytes.length}`);
    assert.equal(sha(part.body), sha(bytes.subarray(100, 1100)));
    const tail = await raw(port, path, { ...auth, range: 'bytes=-500' });
    assert.equal(tail.status, 206);
    assert.equal(sha(tail.body), sha(bytes.subarray(bytes.length - 500)));
    const open = await raw(port, path, { ...auth, range: `bytes=${bytes.length - 10}-` });
    assert.equal(open.body.length, 10);
    // Reassembled from ranges, it is the same file.
    const halves = await Promise.all([
      raw(port, path, { ...auth, range: `bytes=0-${Math.floor(bytes.length / 2) - 1}` }),
      raw(port, path, { ...auth, range: `bytes=${Math.floor(bytes.length / 2)}-` }),
    ]);
    assert.equal(sha(Buffer.concat(halves.map((h) => h.body))), sha(bytes));

    const beyond = await raw(port, path, { ...auth, range: `bytes=${bytes.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
    assert.equal(beyond.headers['content-length'], '0');
    assert.equal(beyond.headers['content-type'], undefined, 'a 416 carries no media type');
    const longer = await raw(port, path, { ...auth, range: `bytes=-${bytes.length * 2}` });
    assert.equal(longer.status, 206);
    assert.equal(longer.headers['content-range'], `bytes 0-${bytes.length - 1}/${bytes.length}`);
    assert.equal(sha(longer.body), sha(bytes));
    const fresh = await raw(port, path, { ...auth, range: 'bytes=0-9', 'if-range': etag });
    assert.equal(fresh.status, 206, 'a matching If-Range: the range');
    assert.equal(fresh.body.length, 10);
    const headRange = await raw(port, path, { ...auth, range: 'bytes=0-9' }, 'HEAD');
    assert.equal(headRange.status, 206);
    assert.equal(headRange.headers['content-length'], '10');
    assert.equal(headRange.body.length, 0);
    const several = await raw(port, path, { ...auth, range: 'bytes=0-1,5-6' });
    assert.equal(several.status, 200, 'several ranges: the whole file');
    const stale = await raw(port, path, { ...auth, range: 'bytes=0-9', 'if-range': '"other"' });
    assert.equal(stale.status, 200, 'a stale If-Range: the whole file');

    assert.equal((await raw(port, path, { ...auth, 'if-none-match': etag })).status, 304);
    assert.equal(
      (await raw(port, path, { ...auth, 'if-modified-since': lastModified })).status,
      304,
    );
    assert.equal((await raw(port, path, { ...auth, 'if-none-match': '"x"' })).status, 200);
    const head = await raw(port, path, auth, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), bytes.length);

    const line = t.logs.find((r) => r.msg === 'audit: file downloaded' && r.status === 206);
    assert.equal(line?.filename, recording);
    assert.equal(line?.subject, 'test-viewer');
  });

  it('serves an empty file, whose every range is unsatisfiable', async () => {
    writeFileSync(join(recordings(), 'empty_2026-01-02_00-00-00_001.mp4'), '');
    const path = '/files/recordings/empty_2026-01-02_00-00-00_001.mp4';
    const auth = { authorization: `Bearer ${token}` };
    const whole = await raw(port, path, auth);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-length'], '0');
    assert.equal((await raw(port, path, { ...auth, range: 'bytes=0-' })).status, 416);
    assert.equal((await raw(port, path, { ...auth, range: 'bytes=-5' })).status, 416);
  });

  it('wants a credential: 401 without, and the X-API-Key header works too', async () => {
    const path = `/files/recordings/${recording}`;
    const none = await raw(port, path);
    assert.equal(none.status, 401);
    assert.match(none.body.toString(), /Authentication required/);
    assert.equal((await raw(port, path, { authorization: 'Bearer nonsense' })).status, 401);
    const key = t.app.apiKeys.create({ name: 'dl', role: 'viewer' }).key;
    assert.equal((await raw(port, path, { 'x-api-key': key })).status, 200);
    assert.equal(
      (await raw(port, path, { authorization: `Bearer ${token}` }, 'DELETE')).status,
      405,
    );
  });

  it('refuses every path traversal attempt, by any encoding', async () => {
    // Files a traversal would reach: one beside the directories, one far outside.
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    writeFileSync(join(outside, 'secret.mp4'), 'SECRET');
    symlinkSync(join(outside, 'secret.mp4'), join(recordings(), 'escape.mp4'));
    writeFileSync(join(t.dir, 'beside.mp4'), 'SECRET');
    writeFileSync(join(snapshots(), 'real.jpg'), 'SNAPSHOT');
    // Links inside the directory to what is never served: a journal, a hidden file.
    mkdirSync(join(recordings(), '.sessions'), { recursive: true });
    writeFileSync(join(recordings(), '.sessions', 'journal.json'), 'SECRET');
    writeFileSync(join(recordings(), '.hidden.mp4'), 'SECRET');
    symlinkSync(join(recordings(), '.sessions', 'journal.json'), join(recordings(), 'journal.mp4'));
    symlinkSync(join(recordings(), '.hidden.mp4'), join(recordings(), 'unhidden.mp4'));
    symlinkSync(join(recordings(), '.sessions'), join(recordings(), 'folder.mp4'));
    const attempts = [
      '/files/recordings/../../etc/passwd',
      '/files/recordings/..%2f..%2fetc%2fpasswd',
      '/files/recordings/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/files/recordings/%2e%2e/beside.mp4',
      '/files/recordings/..%2fbeside.mp4',
      '/files/recordings/%2E%2E%2Fbeside.mp4',
      '/files/recordings/..%5cbeside.mp4',
      '/files/recordings/..\\beside.mp4',
      '/files/recordings/%252e%252e%252fbeside.mp4',
      '/files/recordings/..%c0%afbeside.mp4',
      '/files/recordings/%c0%ae%c0%ae%2fbeside.mp4',
      '/files/recordings/beside.mp4%00.mp4',
      '/files/recordings/%00',
      '/files/recordings/....%2f%2fbeside.mp4',
      '/files/recordings/.%2e/beside.mp4',
      '/files/recordings/%2e%2e',
      '/files/recordings/..',
      '/files/recordings/.',
      '/files/recordings/',
      '/files/recordings/.hidden.mp4',
      '/files/recordings/escape.mp4',
      '/files/recordings/%2fetc%2fpasswd',
      '/files/recordings//etc/passwd',
      '/files/recordings/x%2f..%2f..%2fbeside.mp4',
      '/files/recordings/..%2fsnapshots%2freal.jpg',
      '/files/recordings/../snapshots/real.jpg',
      '/files/snapshots/..%2f..%2fbeside.mp4',
      '/files/recordings/C:%5cWindows%5cwin.ini',
      '/files/recordings/~%2fbeside.mp4',
      '/files/recordings/real.jpg',
      '/files/../etc/passwd',
      '/files/recordings/beside.mp4/',
      '/files/recordings/%ff%fe.mp4',
      '/files/recordings/%',
      '/files/recordings/journal.mp4',
      '/files/recordings/unhidden.mp4',
      '/files/recordings/folder.mp4',
      '/files/recordings/.sessions%2fjournal.json',
    ];
    const auth = { authorization: `Bearer ${token}` };
    const answers: string[] = [];
    for (const path of attempts) {
      const res = await raw(port, path, auth);
      if (![400, 404].includes(res.status) || /SECRET|SNAPSHOT|root:/.test(res.body.toString())) {
        answers.push(`${path}: ${res.status} ${res.body.toString().slice(0, 60)}`);
      }
    }
    assert.deepEqual(answers, [], 'every attempt is a 400 or a 404 that reveals nothing');
    assert.ok(attempts.length >= 20);
    // A link leading out is not listed either; one that stays inside is listed and served.
    symlinkSync(join(recordings(), recording), join(recordings(), 'alias.mp4'));
    await t.app.files.recordings.rescan();
    assert.equal(t.app.files.recordings.get('escape.mp4'), undefined);
    assert.ok(t.app.files.recordings.get('alias.mp4'));
    assert.equal((await raw(port, '/files/recordings/alias.mp4', auth)).status, 200);
  });

  it('refuses to delete a recording being written, then deletes it once stopped', async () => {
    const started = (await operator.request('start_recording', { device: 'test0' })) as {
      filename: string;
    };
    // ffmpeg creates the file just after the reply: the listing shows it once it exists.
    let listed = (await viewer.request('list_recordings', { limit: 1 })) as Listing;
    const deadline = performance.now() + 10_000;
    while (listed.files[0]?.filename !== started.filename) {
      assert.ok(performance.now() < deadline, 'the recording never appeared in the listing');
      await new Promise((resolve) => setTimeout(resolve, 50));
      listed = (await viewer.request('list_recordings', { limit: 1 })) as Listing;
    }
    assert.equal(listed.files[0]?.in_progress, true);
    await assert.rejects(
      operator.request('delete_recording', { filename: started.filename }),
      (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, -1006);
        assert.match(error.message, /is being recorded: stop the recording/);
        return true;
      },
    );
    await operator.request('stop_recording', { device: 'test0' });
    const gone = (await operator.request('delete_recording', { filename: started.filename })) as {
      deleted: boolean;
    };
    assert.equal(gone.deleted, true);
    assert.equal(
      await rpcCode(viewer.request('get_recording_info', { filename: started.filename })),
      -1004,
    );
    assert.equal(
      await rpcCode(viewer.request('delete_recording', { filename: recording })),
      -32003,
      'a viewer may not delete',
    );
    assert.ok(
      t.logs.find((r) => r.msg === 'audit: file deleted' && r.filename === started.filename),
    );
  });

  it('reports storage, with the sizes of the media and the threshold reached', async () => {
    const info = (await admin.request('get_storage_info', {})) as Record<string, unknown>;
    assert.ok((info.total_space as number) > 0);
    // What the disk says: every plain recording file in the directory, links left out.
    const onDisk = readdirSync(recordings(), { withFileTypes: true })
      .filter((e) => e.isFile() && isMediaName(e.name, ['mp4', 'mkv']))
      .reduce((sum, e) => sum + statSync(join(recordings(), e.name)).size, 0);
    assert.equal(info.recordings_size, onDisk + statSync(join(recordings(), 'alias.mp4')).size);
    assert.match(String(info.threshold_status), /^(ok|warn|block|critical)$/);
    assert.equal((info.retention as { policy_type: string }).policy_type, 'manual');
    const health = (await (await fetch(`${t.healthUrl}/health/storage`)).json()) as {
      details: { usage_percentage: number };
    };
    assert.equal(health.details.usage_percentage, info.usage_percentage);
    const metrics = await (await fetch(`${t.healthUrl}/metrics`)).text();
    assert.match(metrics, /camera_service_media_files\{kind="recordings"\} \d+/);
    assert.equal(await rpcCode(viewer.request('get_storage_info', {})), -32003);
  });
});

describe('the retention policy across a restart', () => {
  it('is what the admin set, after the service starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camera-service-retention-'));
    let t = await startApp({}, { dir });
    const admin = await t.connect({ as: 'admin' });
    const set = await admin.request('set_retention_policy', {
      policy_type: 'size',
      max_size_gb: 50,
      enabled: true,
    });
    await assert.rejects(
      admin.request('set_retention_policy', { policy_type: 'size', enabled: true }),
      /max_size_gb/,
    );
    await t.stop();
    t = await startApp({}, { dir });
    try {
      const again = await t.connect({ as: 'admin' });
      const info = (await again.request('get_storage_info', {})) as { retention: unknown };
      assert.deepEqual(info.retention, set);
    } finally {
      await t.stop();
    }
  });
});
