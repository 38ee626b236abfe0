/**
 * Which camera took a snapshot, whatever it is named: the service writes it into the JPEG
 * (a comment segment) and the catalog reads it back, so listings, the device filter and
 * get_snapshot_info know it, also after a restart and in a copy of the directory. Against
 * the running service with a real test-pattern camera and real ffmpeg; the tag's own rules
 * on hand-made JPEGs.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readFileOrigin, readOrigin, tagJpeg } from '../../src/files/index.js';
import { startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';

const CAMERA = { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } };

interface Listed {
  filename: string;
  device: string | null;
}

/** A JPEG: SOI, APP0 (JFIF), a comment, then the rest as ffmpeg writes them (shortened). */
function jpeg(app1Bytes = 0): Buffer {
  const app0 = Buffer.from([
    0xff,
    0xe0,
    0x00,
    0x10,
    ...Buffer.from('JFIF\0'),
    1,
    2,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
  ]);
  const parts = [Buffer.from([0xff, 0xd8]), app0];
  if (app1Bytes > 0) {
    const app1 = Buffer.alloc(4 + app1Bytes);
    app1[0] = 0xff;
    app1[1] = 0xe1;
    app1.writeUInt16BE(app1Bytes + 2, 2);
    parts.push(app1);
  }
  const com = Buffer.from([0xff, 0xfe, 0x00, 0x06, ...Buffer.from('Lavc')]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x02, 0x12, 0x34, 0xff, 0xd9]);
  return Buffer.concat([...parts, com, sos]);
}

describe('the camera of a snapshot, in the file itself', () => {
  it('is what listings, the device filter and get_snapshot_info say for a name of the caller’s', async () => {
    const t = await startApp({ cameras: [CAMERA] });
    try {
      const operator = await t.connect({ as: 'operator' });
      await operator.request('take_snapshot', { device: 'test0', filename: 'x.jpg' });
      await operator.request('take_snapshot', { device: 'test0' }); // a default name
      const all = (await operator.request('list_snapshots', {})) as { files: Listed[] };
      assert.equal(all.files.find((f) => f.filename === 'x.jpg')?.device, 'test0');
      const filtered = (await operator.request('list_snapshots', { device: 'test0' })) as {
        files: Listed[];
        total: number;
      };
      assert.equal(filtered.total, 2);
      assert.ok(filtered.files.some((f) => f.filename === 'x.jpg'));
      const info = (await operator.request('get_snapshot_info', { filename: 'x.jpg' })) as {
        device: string | null;
        resolution: string;
      };
      assert.equal(info.device, 'test0');
      assert.equal(info.resolution, '320x240', 'the tagged file is still a JPEG ffprobe reads');
      const other = (await operator.request('list_snapshots', { device: 'camera9' })) as {
        total: number;
      };
      assert.equal(other.total, 0);
      // A real decoder takes the file as it is.
      await promisify(execFile)(
        'ffmpeg',
        ['-v', 'error', '-i', join(t.config.storage.snapshots_dir, 'x.jpg'), '-f', 'null', '-'],
        { timeout: 10_000 },
      );
    } finally {
      await t.stop();
    }
  });

  it('survives a restart and a copy of the directory, without the camera being there', async () => {
    const first = await startApp({ cameras: [CAMERA] });
    let shot: Buffer;
    try {
      const operator = await first.connect({ as: 'operator' });
      await operator.request('take_snapshot', { device: 'test0', filename: 'gate.jpg' });
      shot = readFileSync(join(first.config.storage.snapshots_dir, 'gate.jpg'));
    } finally {
      await first.stop();
    }
    // Another service, with no camera at all, whose snapshots are a copy of the first's.
    const dir = mkdtempSync(join(tmpdir(), 'camera-service-origin-'));
    mkdirSync(join(dir, 'snapshots'));
    writeFileSync(join(dir, 'snapshots', 'restored-gate.jpg'), shot);
    const second = await startApp({ cameras: [] }, { dir });
    try {
      const viewer = await second.connect({ as: 'viewer' });
      const listed = (await viewer.request('list_snapshots', { device: 'test0' })) as {
        files: Listed[];
      };
      assert.deepEqual(
        listed.files.map((f) => [f.filename, f.device]),
        [['restored-gate.jpg', 'test0']],
      );
    } finally {
      await second.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a comment after the JFIF header, read back from the first bytes', async () => {
    const origin = { device: '/dev/video0', stream: 'camera0' };
    const tagged = tagJpeg(jpeg(), origin);
    // SOI and APP0 stay first (JFIF wants them there); the comment follows.
    assert.deepEqual([...tagged.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xe0]);
    assert.deepEqual([...tagged.subarray(20, 22)], [0xff, 0xfe]);
    assert.deepEqual(readOrigin(tagged), origin);
    assert.equal(readOrigin(jpeg()), null, 'an untagged JPEG has no origin');
    // Behind 20 kB of EXIF, the file is read further.
    const dir = tempDir();
    const big = join(dir, 'exif.jpg');
    writeFileSync(big, tagJpeg(jpeg(20_000), origin));
    assert.deepEqual(await readFileOrigin(big), origin);
    copyFileSync(big, join(dir, 'copy.jpg'));
    assert.deepEqual(await readFileOrigin(join(dir, 'copy.jpg')), origin);
    assert.equal(await readFileOrigin(join(dir, 'missing.jpg')), null);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is ignored when it does not hold up', () => {
    const comment = (text: string) => {
      const payload = Buffer.from(text);
      const segment = Buffer.alloc(4 + payload.length);
      segment[0] = 0xff;
      segment[1] = 0xfe;
      segment.writeUInt16BE(payload.length + 2, 2);
      payload.copy(segment, 4);
      const base = jpeg();
      return Buffer.concat([base.subarray(0, 20), segment, base.subarray(20)]);
    };
    for (const text of [
      'camera-service origin {"device":"/dev/video0"}',
      'camera-service origin {"device":"","stream":"camera0"}',
      'camera-service origin {"device":"a\\nb","stream":"camera0"}',
      `camera-service origin {"device":"${'x'.repeat(300)}","stream":"camera0"}`,
      'camera-service origin not json',
      'someone else {"device":"/dev/video0","stream":"camera0"}',
    ]) {
      assert.equal(readOrigin(comment(text)), null, text);
    }
    assert.equal(readOrigin(Buffer.from('not a jpeg at all')), null);
    assert.equal(readOrigin(Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00])), null, 'cut short');
    const notJpeg = Buffer.from('GIF89a');
    assert.equal(tagJpeg(notJpeg, { device: 'd', stream: 's' }), notJpeg, 'left as it is');
  });
});
