/**
 * What the real `camera-service` command line says when a user gets something wrong:
 * each message is a sentence naming the problem and what to do, with an exit status a
 * script can tell apart (64 command line, 78 configuration, 1 could not start).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { EXIT_CONFIG } from '../../src/index.js';
import { tempDir, writeFile } from '../helpers/files.js';
import { serviceEnv, spawnService } from '../helpers/process.js';
import { within } from '../helpers/wait.js';

const EXIT_USAGE = 64;

/** Runs the binary to its end; its exit code, stdout and stderr. */
async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const command = spawnService(args, env);
  let stdout = '';
  command.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const { code } = await within(command.exited, 15_000, `camera-service ${args.join(' ')}`);
  return {
    code,
    stdout,
    stderr: command.stderr(),
    fatal: command.logs.find((r) => r.level === 'fatal'),
  };
}

describe('camera-service command-line messages', () => {
  const env = serviceEnv(tempDir());

  it('blames a mistyped environment variable, not the configuration file', async () => {
    const dir = tempDir();
    const file = writeFile(dir, 'ok.yml', 'server:\n  port: 0\n');
    const { code, stderr } = await cli(['config', '--config', file], {
      ...env,
      CAMERA_SERVICE_SERVER_PROT: '9000',
    });
    assert.equal(code, EXIT_CONFIG);
    assert.match(stderr, /The CAMERA_SERVICE_\* environment variables are invalid:/);
    assert.match(stderr, /CAMERA_SERVICE_SERVER_PROT: not a configuration key/);
    assert.match(stderr, /Fix or unset the variables above/);
    assert.doesNotMatch(stderr, /configuration file/);
  });

  it('says a missing file does not exist, without pointing at keys that are not there', async () => {
    const { code, stderr } = await cli(['--config', '/nonexistent/camera.yml'], env);
    assert.equal(code, EXIT_CONFIG);
    assert.match(stderr, /The configuration file \/nonexistent\/camera\.yml cannot be read:/);
    assert.match(stderr, /it does not exist; check the --config path/);
    assert.doesNotMatch(stderr, /keys above/);
    const viaEnv = await cli(['config'], { ...env, CAMERA_SERVICE_CONFIG: '/nonexistent/c.yml' });
    assert.match(viaEnv.stderr, /check CAMERA_SERVICE_CONFIG/);
  });

  it('tells the file and the variables apart when both are wrong, all at once', async () => {
    const file = writeFile(tempDir(), 'bad.yml', 'server:\n  prot: 1\n');
    const { code, stderr } = await cli(['config', '--config', file], {
      ...env,
      CAMERA_SERVICE_HEALTH_PROT: '1',
    });
    assert.equal(code, EXIT_CONFIG);
    assert.match(stderr, /file .*bad\.yml and the CAMERA_SERVICE_\* environment variables/);
    assert.match(stderr, /server\.prot: unknown key/);
    assert.match(stderr, /CAMERA_SERVICE_HEALTH_PROT: not a configuration key/);
  });

  it('names an unknown command as such, lists the commands and suggests the closest', async () => {
    for (const args of [['strat'], ['tokn', '--role', 'admin'], ['--config', '/x.yml', 'kyes']]) {
      const { code, stderr } = await cli(args, env);
      assert.equal(code, EXIT_USAGE, args.join(' '));
      const word = args.find((a) => /^[a-z]+$/.test(a) && a !== 'admin');
      assert.match(
        stderr,
        new RegExp(`"${word}" is not a command; the commands are config, keys, token`),
      );
      assert.match(stderr, /with no command camera-service runs the service/);
      assert.doesNotMatch(stderr, /too many arguments/);
    }
    assert.match((await cli(['tokn'], env)).stderr, /Did you mean `camera-service token`\?/);
    const option = await cli(['--confg', 'x.yml'], env);
    assert.equal(option.code, EXIT_USAGE);
    assert.match(option.stderr, /^camera-service: unknown option '--confg'/);
    assert.match(option.stderr, /Run camera-service --help/);
  });

  it('says in --help that no command runs the service, and what the exit statuses mean', async () => {
    const { code, stdout } = await cli(['--help'], env);
    assert.equal(code, 0);
    assert.match(stdout, /With no command, camera-service runs the service/);
    assert.match(stdout, /SIGHUP reloads the configuration/);
    assert.match(stdout, /78 an invalid configuration/);
    assert.equal((await cli(['help', 'keys'], env)).stdout.includes('revoke'), true);
  });

  it('names the setting of a busy media port and suggests another instance holds it', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const { code, fatal } = await cli([], {
        ...env,
        CAMERA_SERVICE_MEDIAMTX_RTSP_PORT: String(port),
      });
      assert.equal(code, 1);
      const text = String(fatal?.err);
      assert.match(text, new RegExp(`port ${port} on 127\\.0\\.0\\.1 \\(mediamtx\\.rtsp_port`));
      assert.match(text, /set by CAMERA_SERVICE_MEDIAMTX_RTSP_PORT/);
      assert.match(text, /already in use, most likely by another camera-service or MediaMTX/);
      assert.match(text, /or set mediamtx\.rtsp_port to another port \(0 picks a free one\)/);
      assert.doesNotMatch(text, /^listen EADDRINUSE/);
    } finally {
      holder.close();
    }
  });
});
