/** camera-relay's configuration and the command as an operator runs it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { RelayConfigError, parseRelayConfig } from '../src/index.js';

const BIN = fileURLToPath(new URL('../src/bin.js', import.meta.url));

describe('relay configuration', () => {
  it('reads the mediamtx.yml subset, ignoring (and naming) keys it does not implement', () => {
    const { options, ignored } = parseRelayConfig(
      [
        'rtspAddress: :8554',
        'apiAddress: :9997',
        'hls: no',
        'webrtc: yes',
        'paths:',
        '  cam0:',
        '    runOnDemand: ffmpeg -i x -f rtsp rtsp://localhost:$RTSP_PORT/$MTX_PATH',
        '    runOnDemandRestart: yes',
        '    record: no',
        '  all_others:',
      ].join('\n'),
    );
    assert.equal(options.host, '0.0.0.0');
    assert.equal(options.rtspPort, 8554);
    assert.equal(options.apiHost, '0.0.0.0');
    assert.equal(options.apiPort, 9997);
    assert.equal(options.hlsPort, null);
    assert.equal(options.allowUnconfigured, true);
    assert.deepEqual(options.paths, [
      {
        runOnDemand: 'ffmpeg -i x -f rtsp rtsp://localhost:$RTSP_PORT/$MTX_PATH',
        runOnDemandRestart: true,
        name: 'cam0',
      },
    ]);
    assert.deepEqual(ignored, ['webrtc', 'paths.cam0.record']);
  });

  it('defaults as MediaMTX does: RTSP and HLS on every address, the API on loopback', () => {
    const { options } = parseRelayConfig('');
    assert.deepEqual(
      {
        host: options.host,
        rtspPort: options.rtspPort,
        apiHost: options.apiHost,
        apiPort: options.apiPort,
        hlsPort: options.hlsPort,
      },
      { host: '0.0.0.0', rtspPort: 8554, apiHost: '127.0.0.1', apiPort: 9997, hlsPort: 8888 },
    );
  });

  it('names every bad value', () => {
    assert.throws(
      () =>
        parseRelayConfig(
          'rtspAddress: 8554\nhls: maybe\npaths:\n  a:\n    runOnDemandRestart: "x"\n    runOnDemandCloseAfter: soon\n',
        ),
      (e: unknown) =>
        e instanceof RelayConfigError &&
        e.problems.length === 4 &&
        /rtspAddress: expected "host:port"/.test(e.message) &&
        /hls: expected yes or no/.test(e.message) &&
        /paths\.a\.runOnDemandRestart: expected a boolean/.test(e.message) &&
        /paths\.a\.runOnDemandCloseAfter: expected a duration/.test(e.message),
    );
  });
});

describe('camera-relay command', () => {
  it(
    'starts from a config file, serves its paths over the API, and stops on SIGTERM with status 0',
    { timeout: 20_000 },
    async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'relay-cli-')), 'relay.yml');
      writeFileSync(
        file,
        'rtspAddress: 127.0.0.1:0\napiAddress: 127.0.0.1:0\nhlsAddress: 127.0.0.1:0\npaths:\n  cam0:\n    runOnDemandCloseAfter: 5s\n',
      );
      const child = spawn(process.execPath, [BIN, '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = createInterface({ input: child.stdout });
      const listening = new Promise<Record<string, number>>((resolve) =>
        lines.on('line', (line) => {
          const record = JSON.parse(line) as Record<string, number> & { msg: string };
          if (record.msg === 'listening') resolve(record);
        }),
      );
      const { api_port: apiPort, rtsp_port: rtspPort } = await listening;
      assert.ok((rtspPort ?? 0) > 0);
      const conf = (await fetch(`http://127.0.0.1:${apiPort}/v3/config/paths/get/cam0`).then((r) =>
        r.json(),
      )) as Record<string, unknown>;
      assert.equal(conf.runOnDemandCloseAfter, '5s');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'close')) as [number];
      assert.equal(code, 0);
    },
  );

  it('exits 78 with the bad keys named', { timeout: 20_000 }, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'relay-cli-')), 'bad.yml');
    writeFileSync(file, 'apiAddress: nowhere\n');
    const child = spawn(process.execPath, [BIN, '--config', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 78);
    assert.match(stderr, /apiAddress: expected "host:port"/);
  });

  it(
    'exits 1 with one line, no stack trace, when its port is taken',
    { timeout: 20_000 },
    async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as AddressInfo;
      try {
        const file = join(mkdtempSync(join(tmpdir(), 'relay-cli-')), 'taken.yml');
        writeFileSync(file, `rtspAddress: 127.0.0.1:${port}\napiAddress: 127.0.0.1:0\nhls: no\n`);
        const child = spawn(process.execPath, [BIN, '--config', file], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const [code] = (await once(child, 'close')) as [number];
        assert.equal(code, 1);
        assert.match(stderr, /^camera-relay: cannot start: .*EADDRINUSE.*\n$/);
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      } finally {
        taken.close();
      }
    },
  );
});
