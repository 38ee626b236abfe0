import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/index.js';
import { tempDir, writeFile } from '../helpers/files.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('configuration loading', () => {
  it('runs on the SPEC defaults with no file and no environment', () => {
    const { config, file } = loadConfig({ env: {} });
    assert.equal(file, null);
    assert.equal(config.server.port, 8002);
    assert.equal(config.server.websocket_path, '/ws');
    assert.equal(config.server.max_connections, 100);
    assert.equal(config.server.max_message_bytes, 65536);
    assert.equal(config.health.port, 8003);
    assert.equal(config.mediamtx.mode, 'auto');
    assert.equal(config.mediamtx.codec.video_level, '3.0');
    assert.equal(config.camera.poll_interval, 1.0);
    assert.equal(config.storage.block_percent, 90);
    assert.equal(config.retention.enabled, false);
    assert.equal(config.recording.segment_seconds, 1800);
    assert.match(config.storage.recordings_dir, /^\.\/data\//);
  });

  it('reads a YAML file and fills what it leaves out', () => {
    const dir = tempDir();
    const file = writeFile(
      dir,
      'c.yml',
      'server:\n  port: 9100\ncameras:\n  - id: test0\n    test_pattern: { size: 320x240, fps: 10 }\n  - id: lobby\n    url: rtsp://10.0.0.2/stream\n',
    );
    const { config } = loadConfig({ file, env: {} });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.host, '0.0.0.0');
    assert.deepEqual(config.cameras, [
      { id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: true } },
      { id: 'lobby', url: 'rtsp://10.0.0.2/stream' },
    ]);
  });

  it('takes the file from CAMERA_SERVICE_CONFIG when --config is not given', () => {
    const file = writeFile(tempDir(), 'c.yml', 'health:\n  port: 0\n');
    assert.equal(loadConfig({ env: { CAMERA_SERVICE_CONFIG: file } }).config.health.port, 0);
  });

  it('lets CAMERA_SERVICE_<SECTION>_<KEY> override the file, typed like the key', () => {
    const file = writeFile(tempDir(), 'c.yml', 'server:\n  port: 9100\n');
    const { config, envOverrides } = loadConfig({
      file,
      env: {
        CAMERA_SERVICE_SERVER_PORT: '9002',
        CAMERA_SERVICE_SERVER_MAX_CONNECTIONS: '7',
        CAMERA_SERVICE_AUTH_JWT_SECRET: 's'.repeat(40),
        CAMERA_SERVICE_AUTH_RATE_LIMIT_REQUESTS_PER_SECOND: '12.5',
        CAMERA_SERVICE_MEDIAMTX_CODEC_VIDEO_LEVEL: '4.0',
        CAMERA_SERVICE_CAMERA_AUTO_START_STREAMS: 'false',
        CAMERA_SERVICE_SERVER_PUBLIC_HOST: 'cams.example.org',
        CAMERA_SERVICE_RETENTION_MAX_SIZE_GB: '50',
        CAMERA_SERVICE_CAMERAS: '[{id: yard, test_pattern: {size: 640x480, fps: 5}}]',
        UNRELATED: 'x',
      },
    });
    assert.equal(config.server.port, 9002);
    assert.equal(config.server.max_connections, 7);
    assert.equal(config.auth.jwt_secret, 's'.repeat(40));
    assert.equal(config.auth.rate_limit.requests_per_second, 12.5);
    assert.equal(config.mediamtx.codec.video_level, '4.0');
    assert.equal(config.camera.auto_start_streams, false);
    assert.equal(config.server.public_host, 'cams.example.org');
    assert.equal(config.retention.max_size_gb, 50);
    assert.deepEqual(config.cameras, [
      { id: 'yard', test_pattern: { size: '640x480', fps: 5, clock: true } },
    ]);
    assert.equal(envOverrides['server.port'], 'CAMERA_SERVICE_SERVER_PORT');
    assert.equal(
      envOverrides['auth.rate_limit.requests_per_second'],
      'CAMERA_SERVICE_AUTH_RATE_LIMIT_REQUESTS_PER_SECOND',
    );
  });

  it('names every bad key in a file, what was expected, and what it got', () => {
    const file = writeFile(
      tempDir(),
      'bad.yml',
      [
        'server:',
        '  port: "abc"',
        '  prot: 8002',
        '  max_connections: 0',
        'storage:',
        '  warn_percent: 95',
        '  block_percent: 90',
        'mediamtx:',
        '  mode: turbo',
        'cameras:',
        '  - id: "bad id!"',
        '    test_pattern: {}',
        '  - id: lobby',
        '    url: http://not-rtsp',
        'logging:',
        '  level: loud',
      ].join('\n'),
    );
    const problems = problemsOf(() => loadConfig({ file, env: {} }));
    const text = problems.join('\n');
    assert.match(text, /server\.port: expected a port number from 0 to 65535.*got "abc"/);
    assert.match(text, /server\.prot: unknown key; expected one of host, port, /);
    assert.match(text, /server\.max_connections: expected .*above 0.*got 0/);
    assert.match(text, /storage: expected warn_percent <= block_percent <= critical_percent/);
    assert.match(
      text,
      /mediamtx\.mode: expected one of auto, managed, external, embedded, got "turbo"/,
    );
    assert.match(text, /cameras\.0/);
    assert.match(text, /cameras\.1/);
    assert.match(text, /logging\.level: expected one of trace, debug/);
    assert.ok(problems.length >= 8, text);
  });

  it('says which environment variable set a bad value', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { CAMERA_SERVICE_SERVER_PORT: 'eighty' } }),
    );
    assert.match(
      problems.join('\n'),
      /server\.port: .*got "eighty" \(set by CAMERA_SERVICE_SERVER_PORT\)/,
    );
  });

  it('refuses an environment variable that names no key', () => {
    const problems = problemsOf(() => loadConfig({ env: { CAMERA_SERVICE_SERVER_PROT: '1' } }));
    assert.match(problems.join('\n'), /CAMERA_SERVICE_SERVER_PROT: not a configuration key/);
  });

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf(() =>
      loadConfig({ env: {}, file: writeFile(tempDir(), 's.yml', 'auth:\n  jwt_secret: 12345\n') }),
    );
    assert.match(problems.join('\n'), /auth\.jwt_secret/);
    assert.doesNotMatch(problems.join('\n'), /12345/);
  });

  it('reports YAML syntax errors with their line', () => {
    const file = writeFile(tempDir(), 'broken.yml', 'server:\n  port: 1\n   host: x\n');
    assert.match(
      problemsOf(() => loadConfig({ file, env: {} })).join('\n'),
      /YAML syntax error at line \d+/,
    );
  });

  it('reports a missing file with what to check', () => {
    const problems = problemsOf(() => loadConfig({ file: '/nonexistent/camera.yml', env: {} }));
    assert.match(problems[0] ?? '', /does not exist; check the --config path/);
    const viaEnv = problemsOf(() => loadConfig({ env: { CAMERA_SERVICE_CONFIG: '/none.yml' } }));
    assert.match(viaEnv[0] ?? '', /does not exist; check CAMERA_SERVICE_CONFIG/);
  });

  it('refuses a top level that is not a mapping', () => {
    const file = writeFile(tempDir(), 'list.yml', '- a\n- b\n');
    assert.match(
      problemsOf(() => loadConfig({ file, env: {} })).join(''),
      /expected a YAML mapping/,
    );
  });

  it('accepts an empty file as all defaults', () => {
    const file = writeFile(tempDir(), 'empty.yml', '# nothing\n');
    assert.deepEqual(loadConfig({ file, env: {} }).config, defaultConfig());
  });

  it('refuses duplicate declared camera ids and half-configured TLS', () => {
    const file = writeFile(
      tempDir(),
      'dup.yml',
      'server:\n  tls: { cert: /etc/c.pem }\ncameras:\n  - { id: a, test_pattern: {} }\n  - { id: a, url: "rtsp://x/y" }\n',
    );
    const text = problemsOf(() => loadConfig({ file, env: {} })).join('\n');
    assert.match(text, /cameras\.1\.id: expected a unique id; "a" is used twice/);
    assert.match(text, /server\.tls: set both cert and key/);
  });

  it('heads the problems by where they came from, and says what to do next', () => {
    const error = (fn: () => unknown): ConfigError => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e;
      }
      assert.fail('expected a ConfigError');
    };
    const file = writeFile(tempDir(), 'bad.yml', 'server:\n  prot: 1\n');
    const fromFile = error(() => loadConfig({ file, env: {} }));
    assert.match(fromFile.message, /^The configuration file .*bad\.yml is invalid:/);
    assert.match(fromFile.hint, /^Fix the keys above; `camera-service config --config /);

    const fromEnv = error(() => loadConfig({ env: { CAMERA_SERVICE_SERVER_PORT: 'x' } }));
    assert.match(fromEnv.message, /^The CAMERA_SERVICE_\* environment variables are invalid:/);
    assert.match(fromEnv.message, /set by CAMERA_SERVICE_SERVER_PORT/);
    assert.match(fromEnv.hint, /^Fix or unset the variables above/);

    const both = error(() => loadConfig({ file, env: { CAMERA_SERVICE_SERVER_PORT: 'x' } }));
    assert.match(both.message, /file .*bad\.yml and the CAMERA_SERVICE_\* environment variables/);
    assert.equal(both.problems.length, 2);

    const missing = error(() => loadConfig({ file: '/nonexistent/c.yml', env: {} }));
    assert.match(missing.message, /^The configuration file \/nonexistent\/c\.yml cannot be read:/);
    assert.equal(missing.hint, '', 'the problem says what to do; no keys to fix');

    const broken = writeFile(tempDir(), 'broken.yml', 'a: [\n');
    const syntax = error(() => loadConfig({ file: broken, env: {} }));
    assert.match(syntax.message, /is not valid YAML:/);
    assert.match(syntax.hint, /^Fix the lines above/);
  });
});
