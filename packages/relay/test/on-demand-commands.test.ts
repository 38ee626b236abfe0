/**
 * runOnDemand commands through the whole relay, as the camera service meets them on
 * MediaMTX: a command that needs a shell never publishes, and the reader's query reaches
 * the command as the imitated version passes it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Relay, type MediamtxVersion, type RelayOptions } from '../src/index.js';
import { RawReader } from './helpers/reader.js';

const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH';

/** Writes its arguments as JSON to the file named first, then exits (never publishes). */
const RECORD_ARGS =
  `${process.execPath} -e ` +
  `'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))'`;

async function startRelay(options: Partial<RelayOptions>) {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const relay = new Relay({
    rtspPort: 0,
    apiPort: 0,
    restartDelayMs: 100,
    killGraceMs: 2000,
    log: (level, fields, message) => lines.push({ level, fields, message }),
    ...options,
  });
  const ports = await relay.start();
  return { relay, lines, url: (path: string) => `rtsp://127.0.0.1:${ports.rtspPort}/${path}` };
}

describe('runOnDemand commands as MediaMTX runs them', () => {
  it('a publisher command with a 2>> redirection never publishes: the reader is refused at the start timeout', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'relay-')), 'cam.log');
    const { relay, lines, url } = await startRelay({
      paths: [{ name: 'cam', runOnDemand: `${PUBLISH} 2>>${log}`, runOnDemandStartTimeout: '3s' }],
    });
    try {
      const exited = once(relay.paths, 'commandExited', { signal: AbortSignal.timeout(15_000) });
      const reader = await RawReader.connect(url('cam'));
      const describe = reader.request('DESCRIBE', url('cam'));
      const [, exit] = (await exited) as [string, { code: number | null; stderrTail: string }];
      assert.notEqual(exit.code, 0, 'ffmpeg took "2>>file" for a second output and gave up');
      assert.match(exit.stderrTail, /2>>/);
      assert.equal((await describe).status, 404);
      reader.socket.destroy();
      assert.equal(existsSync(log), false, 'no shell made the redirection');
      assert.ok(
        lines.some(
          (l) => l.level === 'warn' && /runOnDemand command exited: code 1/.test(l.message),
        ),
        'the exit is logged, with its stderr',
      );
    } finally {
      await relay.stop();
    }
  });

  it('the same command without the redirection streams', async () => {
    const { relay, url } = await startRelay({
      paths: [{ name: 'cam', runOnDemand: PUBLISH, runOnDemandCloseAfter: '30s' }],
    });
    try {
      const reader = await RawReader.connect(url('cam'));
      await reader.play(url('cam'));
      await once(reader, 'packet', { signal: AbortSignal.timeout(15_000) });
      reader.socket.destroy();
    } finally {
      await relay.stop();
    }
  });

  const queries: [MediamtxVersion, query: string, argument: string][] = [
    ['1.18', "a=1&b=it's", 'a%3D1%26b%3Dit%27s'],
    ['1.15', 'a=1&b=2', 'a=1&b=2'],
  ];
  for (const [version, query, argument] of queries) {
    it(`passes the first reader's query as MTX_QUERY, as v${version} does (${argument})`, async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'relay-')), 'args.json');
      const { relay, url } = await startRelay({
        mediamtxVersion: version,
        paths: [
          {
            name: 'cam',
            runOnDemand: `${RECORD_ARGS} ${out} $MTX_QUERY $MTX_PATH`,
            runOnDemandStartTimeout: '1s',
          },
        ],
      });
      try {
        const exited = once(relay.paths, 'commandExited', { signal: AbortSignal.timeout(15_000) });
        const reader = await RawReader.connect(url('cam'));
        const answer = reader.request('DESCRIBE', `${url('cam')}?${query}`);
        await exited;
        assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), [argument, 'cam']);
        assert.equal((await answer).status, 404);
        reader.socket.destroy();
      } finally {
        await relay.stop();
      }
    });
  }

  it('with v1.15 a quote in the query makes the command unusable (it was expanded before splitting)', async () => {
    const { relay, url } = await startRelay({
      mediamtxVersion: '1.15',
      paths: [{ name: 'cam', runOnDemand: 'echo $MTX_QUERY', runOnDemandStartTimeout: '1s' }],
    });
    try {
      const exited = once(relay.paths, 'commandExited', { signal: AbortSignal.timeout(15_000) });
      const reader = await RawReader.connect(url('cam'));
      const answer = reader.request('DESCRIBE', `${url('cam')}?b=it's`);
      const [, exit] = (await exited) as [string, { error?: string }];
      assert.match(exit.error ?? '', /single-quoted string is not closed/);
      assert.equal((await answer).status, 404);
      reader.socket.destroy();
    } finally {
      await relay.stop();
    }
  });
});
