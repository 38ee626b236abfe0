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
import { RelayConfigError, parseRelayConfig, type AuthRequest } from '../src/index.js';
import { startHookServer } from './helpers/hook.js';

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

describe("relay configuration: camera-relay's own keys", () => {
  it('imitates MediaMTX v1.18 with the GOP cache unless told otherwise', () => {
    const { options, ignored } = parseRelayConfig('');
    assert.equal(options.mediamtxVersion, '1.18');
    assert.equal(options.gopCache, true);
    assert.deepEqual(ignored, []);
  });

  it('reads imitateVersion (quoted or as YAML reads 1.15) and gopCache', () => {
    for (const text of [
      "imitateVersion: '1.15'\ngopCache: no\n",
      'imitateVersion: 1.15\ngopCache: false\n',
    ]) {
      const { options, ignored } = parseRelayConfig(text);
      assert.equal(options.mediamtxVersion, '1.15');
      assert.equal(options.gopCache, false);
      assert.deepEqual(ignored, []);
    }
  });

  it('names a version it cannot imitate and a gopCache that is not yes or no', () => {
    assert.throws(
      () => parseRelayConfig('imitateVersion: 1.16\ngopCache: sometimes\n'),
      (e: unknown) =>
        e instanceof RelayConfigError &&
        e.problems.length === 2 &&
        /imitateVersion: expected the MediaMTX version to imitate, one of "1\.15" or "1\.18", got 1\.16/.test(
          e.message,
        ) &&
        /gopCache: expected yes or no, got "sometimes"/.test(e.message),
    );
  });
});

describe('relay configuration: authentication and timeouts', () => {
  const request: AuthRequest = {
    ip: '127.0.0.1',
    user: '',
    password: '',
    token: '',
    action: 'read',
    path: 'cam0',
    protocol: 'rtsp',
    id: null,
    query: '',
  };

  it('defaults to MediaMTX: internal (everyone allowed), readTimeout and writeTimeout 10s', () => {
    const { options, ignored } = parseRelayConfig('authInternalUsers: []\n');
    assert.equal(options.auth, undefined);
    assert.equal(options.readTimeoutMs, 10_000);
    assert.equal(options.writeTimeoutMs, 10_000);
    assert.deepEqual(ignored, ['authInternalUsers']);
  });

  it('maps authMethod http, its address and exclusions, and the timeouts, to the options', async () => {
    const hook = await startHookServer(() => 200);
    try {
      const { options, ignored } = parseRelayConfig(
        [
          'readTimeout: 1500ms',
          'writeTimeout: 2s',
          'authMethod: http',
          `authHTTPAddress: ${hook.url}`,
          'authHTTPExclude:',
          '  - action: api',
          '  - action: read',
          '    path: public',
        ].join('\n'),
      );
      assert.deepEqual(ignored, []);
      assert.equal(options.readTimeoutMs, 1500);
      assert.equal(options.writeTimeoutMs, 2000);
      assert.ok(options.auth);
      assert.equal(await options.auth({ ...request, action: 'api', path: '' }), true);
      assert.equal(await options.auth({ ...request, path: 'public' }), true);
      assert.equal(hook.requests.length, 0, 'excluded actions are not asked');
      assert.equal(await options.auth(request), true);
      assert.deepEqual(hook.requests, [request]);
    } finally {
      await hook.close();
    }
  });

  it('names every bad authentication or timeout value', () => {
    const problems = (text: string) => {
      try {
        parseRelayConfig(text);
        return [];
      } catch (error) {
        assert.ok(error instanceof RelayConfigError);
        return error.problems;
      }
    };
    assert.deepEqual(problems('readTimeout: soon\nwriteTimeout: 0s\n'), [
      'readTimeout: expected a duration above zero such as 10s, got "soon"',
      'writeTimeout: expected a duration above zero such as 10s, got "0s"',
    ]);
    assert.match(
      problems('authMethod: jwt\n')[0] ?? '',
      /^authMethod: the relay implements internal .* and http, got "jwt"/,
    );
    assert.match(
      problems('authMethod: http\n')[0] ?? '',
      /^authHTTPAddress: expected an http:\/\/ or https:\/\/ URL/,
    );
    assert.match(
      problems('authHTTPExclude:\n  - action: delete\n')[0] ?? '',
      /^authHTTPExclude\[0\]\.action: expected one of publish, read, playback, api, metrics, pprof/,
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

  it(
    'asks the authHTTPAddress server with authMethod http, refusing what it refuses',
    { timeout: 20_000 },
    async () => {
      const hook = await startHookServer((r) =>
        r.user === 'admin' && r.password === 'pw' ? 200 : 401,
      );
      const file = join(mkdtempSync(join(tmpdir(), 'relay-cli-')), 'auth.yml');
      writeFileSync(
        file,
        `rtspAddress: 127.0.0.1:0\napiAddress: 127.0.0.1:0\nhls: no\nauthMethod: http\nauthHTTPAddress: ${hook.url}\n`,
      );
      const child = spawn(process.execPath, [BIN, '--config', file], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        const lines = createInterface({ input: child.stdout });
        const apiPort = await new Promise<number>((resolve) =>
          lines.on('line', (line) => {
            const record = JSON.parse(line) as { msg: string; api_port: number };
            if (record.msg === 'listening') resolve(record.api_port);
          }),
        );
        const anonymous = await fetch(`http://127.0.0.1:${apiPort}/v3/info`);
        assert.equal(anonymous.status, 401);
        const admin = await fetch(`http://127.0.0.1:${apiPort}/v3/info`, {
          headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
        });
        assert.equal(admin.status, 200);
        assert.deepEqual(
          hook.requests.map((r) => [r.action, r.user]),
          [
            ['api', ''],
            ['api', 'admin'],
          ],
        );
      } finally {
        child.kill('SIGTERM');
        await once(child, 'close');
        await hook.close();
      }
    },
  );

  it('exits 78 with the bad keys named', { timeout: 20_000 }, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'relay-cli-')), 'bad.yml');
    writeFileSync(file, 'apiAddress: nowhere\nauthMethod: http\nwriteTimeout: later\n');
    const child = spawn(process.execPath, [BIN, '--config', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 78);
    assert.match(stderr, /apiAddress: expected "host:port"/);
    assert.match(stderr, /authHTTPAddress: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(stderr, /writeTimeout: expected a duration above zero such as 10s/);
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
