/** Pulling `source: rtsp://...` from a network camera (here: another relay fed by ffmpeg). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Relay, authorization, parseChallenge, resolveControl } from '../src/index.js';
import { publish, run, stopProcess } from './helpers/media.js';

describe('RTSP client authentication', () => {
  it('answers a Digest challenge as RFC 2617 computes it', () => {
    const header = authorization(
      [
        'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      ],
      { username: 'Mufasa', password: 'Circle Of Life' },
      'GET',
      '/dir/index.html',
      1,
      '0a4f113b',
    );
    assert.match(header ?? '', /response="6629fae49393a05397450978507c4ef1"/);
    assert.match(header ?? '', /qop=auth, nc=00000001, cnonce="0a4f113b"/);
    assert.match(header ?? '', /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
  });

  it('falls back to Basic, and gives up on unknown schemes', () => {
    assert.equal(
      authorization(
        ['Basic realm="cam"'],
        { username: 'a', password: 'b' },
        'DESCRIBE',
        'rtsp://x',
      ),
      'Basic YTpi',
    );
    assert.equal(
      authorization(['Bearer realm="x"'], { username: 'a', password: 'b' }, 'DESCRIBE', 'rtsp://x'),
      null,
    );
    assert.equal(parseChallenge('Digest realm=cam, nonce="n"').params.get('realm'), 'cam');
  });

  it('resolves track controls against the content base', () => {
    assert.equal(resolveControl('rtsp://h/cam/', 'trackID=0'), 'rtsp://h/cam/trackID=0');
    assert.equal(resolveControl('rtsp://h/cam', 'trackID=0'), 'rtsp://h/cam/trackID=0');
    assert.equal(resolveControl('rtsp://h/cam/', 'rtsp://other/t1'), 'rtsp://other/t1');
    assert.equal(resolveControl('rtsp://h/cam/', '*'), 'rtsp://h/cam/');
  });
});

describe('pulled sources', () => {
  it('relays a network camera, and reconnects after losing it', { timeout: 60_000 }, async () => {
    const camera = new Relay({ rtspPort: 0, apiPort: 0, allowUnconfigured: true });
    const cameraPorts = await camera.start();
    const cameraUrl = `rtsp://127.0.0.1:${cameraPorts.rtspPort}/cam`;
    let publisher = publish(cameraUrl, 60);
    await once(camera.paths, 'ready');
    const relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      restartDelayMs: 200,
      paths: [
        { name: 'lobby', source: `rtsp://viewer:secret@127.0.0.1:${cameraPorts.rtspPort}/cam` },
      ],
    });
    const ready = once(relay.paths, 'ready');
    const ports = await relay.start();
    try {
      await ready;
      const url = `rtsp://127.0.0.1:${ports.rtspPort}/lobby`;
      const probe = await run('ffprobe', [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        url,
      ]);
      assert.equal(probe.code, 0, probe.stderr);
      assert.equal(probe.stdout.toString().trim(), 'h264,320,240');
      const info = (await fetch(`http://127.0.0.1:${ports.apiPort}/v3/paths/get/lobby`).then((r) =>
        r.json(),
      )) as Record<string, unknown>;
      assert.equal((info.source as { type: string }).type, 'rtspSource');
      assert.equal(info.ready, true);

      const lost = once(relay.paths, 'notReady');
      await stopProcess(publisher);
      await lost;
      const back = once(relay.paths, 'ready');
      publisher = publish(cameraUrl, 60);
      await back;
      const again = await run('ffprobe', [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-show_entries',
        'stream=codec_name',
        '-of',
        'csv=p=0',
        url,
      ]);
      assert.equal(again.stdout.toString().trim(), 'h264');
    } finally {
      await stopProcess(publisher);
      await relay.stop();
      await camera.stop();
    }
  });
});
