/**
 * No input ends the process: thousands of malformed request lines, targets and headers
 * over raw TCP against the HLS, API and RTSP ports get 4xx answers (RTSP: also the 501
 * and 505 its grammar prescribes), never a 500, and the relay serves normally afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Relay } from '../src/index.js';
import { exchangeAll, garbage, pick, random } from './helpers/fuzz.js';
import { RawReader } from './helpers/reader.js';

const PUBLISH =
  'ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v libx264 ' +
  '-preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp ' +
  'rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH';
const CASES = 1500;

/** Targets from the security review and their relatives: each must get a 4xx. */
const NASTY_TARGETS = [
  '//a:b',
  '//[',
  'http://[::1/x',
  '%zz',
  '/%zz',
  '/a%2',
  '*',
  'abc',
  '/..',
  '/../../etc/passwd',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/cam/%ff%fe/index.m3u8',
  'http://a:b@/x',
  'http://:99999/x',
  '/v3/config/paths/get/%',
  '/v3/paths/get/%E0%A4%A',
  '/?a=%zz&;',
  '/v3/paths/list?page=-1',
  '/v3/paths/list?itemsPerPage=0',
  '/\\..\\..\\',
  `/${'a'.repeat(9000)}`,
  '/cam/seg99999999999.ts',
];

const HEADERS = [
  'Authorization: Basic ###',
  'Authorization: Basic',
  'Authorization: Bearer',
  'Authorization: Digest username="',
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Content-Length: abc',
  'Transfer-Encoding: chunked, gzip',
  'Transfer-Encoding: chunked\r\nContent-Length: 3',
  'Expect: 100-continue',
  'X: \u0001\u0002',
  ': empty-name',
  'No colon',
  `X-Big: ${'b'.repeat(20_000)}`,
];

function httpCase(rand: () => number, prefixes: readonly string[]): string {
  const kind = rand();
  const target = `${pick(rand, prefixes)}${garbage(rand, 1 + Math.floor(rand() * 40), false)}`;
  const headers = Array.from({ length: Math.floor(rand() * 3) }, () =>
    rand() < 0.5 ? pick(rand, HEADERS) : `${garbage(rand, 6)}: ${garbage(rand, 12)}`,
  );
  if (kind < 0.15) {
    // A broken request line.
    const lines = [
      `${garbage(rand, 8)} ${target} HTTP/1.1`,
      `GET ${target}`,
      `GET ${target} HTTP/9.9`,
      `GET  ${target}  HTTP/1.1`,
      `${garbage(rand, 30)}`,
      `GET ${target} HTTP/1.1 extra`,
    ];
    return `${pick(rand, lines)}\r\nHost: x\r\n\r\n`;
  }
  const method =
    kind < 0.7 ? 'GET' : pick(rand, ['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'BREW']);
  const body = method === 'GET' || method === 'HEAD' ? '' : `{${garbage(rand, 10)}`;
  const length = body === '' ? [] : [`Content-Length: ${Buffer.byteLength(body)}`];
  return [`${method} ${target} HTTP/1.1`, 'Host: x', ...length, ...headers, '', body].join('\r\n');
}

function rtspCase(rand: () => number, base: string): string {
  const method = pick(rand, [
    ...['OPTIONS', 'DESCRIBE', 'ANNOUNCE', 'SETUP', 'PLAY', 'RECORD', 'TEARDOWN'],
    // (Not starting with `$`, which begins an interleaved frame, not a request.)
    ...['GET_PARAMETER', 'SET_PARAMETER', 'PAUSE', `X${garbage(rand, 5)}`],
  ]);
  const uri = pick(rand, [
    `${base}/${garbage(rand, 20, false)}`,
    `${base}/cam?${garbage(rand, 20, false)}`,
    `${base}/cam/${garbage(rand, 10, false)}`,
    garbage(rand, 15),
    '*',
    'rtsp://[',
    'http://x/cam',
  ]);
  const version =
    rand() < 0.9 ? 'RTSP/1.0' : pick(rand, ['RTSP/2.0', 'HTTP/1.1', garbage(rand, 4)]);
  const headers = [`CSeq: ${rand() < 0.8 ? Math.floor(rand() * 1000) : garbage(rand, 4)}`];
  for (let i = Math.floor(rand() * 4); i > 0; i -= 1) {
    headers.push(
      pick(rand, [
        `Transport: ${garbage(rand, 25)}`,
        'Transport: RTP/AVP/TCP;unicast;interleaved=999999-1',
        `Session: ${garbage(rand, 10)}`,
        `Authorization: Basic ${Buffer.from(garbage(rand, 12)).toString('base64')}`,
        `Authorization: ${garbage(rand, 20)}`,
        `Content-Length: ${garbage(rand, 3)}`,
        `${garbage(rand, 5)}: ${garbage(rand, 5)}`,
        garbage(rand, 10),
        `X-Big: ${'b'.repeat(17_000)}`,
      ]),
    );
  }
  let body = '';
  if (method === 'ANNOUNCE' && rand() < 0.7) {
    body = pick(rand, [
      `v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 ${garbage(rand, 8)}\r\n`,
      garbage(rand, 60),
      'v=0\r\nm=\r\n',
    ]);
    headers.push('Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${method} ${uri} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${body}`;
}

function histogram(statuses: (number | null)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  return counts;
}

describe('fuzzed input', { timeout: 120_000 }, () => {
  let relay: Relay;
  let ports: { rtspPort: number; apiPort: number; hlsPort: number | null };
  before(async () => {
    relay = new Relay({
      rtspPort: 0,
      apiPort: 0,
      hlsPort: 0,
      readTimeoutMs: 1000,
      // Every request is allowed, but its credentials are parsed on the way.
      auth: async () => true,
      allowUnconfigured: true,
      paths: [{ name: 'cam', runOnDemand: PUBLISH, runOnDemandCloseAfter: '30s' }],
    });
    ports = await relay.start();
  });
  after(() => relay.stop());

  for (const [name, port, prefixes] of [
    ['HLS', () => ports.hlsPort as number, ['/cam/', '/', '//', '/cam/index.m3u8/', '/%']],
    [
      'API',
      () => ports.apiPort,
      ['/v3/', '/v3/config/paths/get/', '/v3/paths/get/', '/v3/config/paths/add/', '//', '/'],
    ],
  ] as const) {
    it(`answers ${NASTY_TARGETS.length} hostile targets and ${CASES} malformed requests on the ${name} port with 4xx`, async () => {
      const rand = random(name === 'HLS' ? 1 : 2);
      const cases = [
        ...NASTY_TARGETS.map((t) => `GET ${t} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
        ...Array.from({ length: CASES }, () => httpCase(rand, prefixes)),
      ];
      const statuses = await exchangeAll(port(), cases);
      statuses.forEach((status, i) => {
        const shown = JSON.stringify(cases[i]?.slice(0, 120));
        assert.ok(status !== null && status >= 400 && status < 500, `${status} for ${shown}`);
      });
      console.log(`${name}: ${JSON.stringify(histogram(statuses))}`);
    });
  }

  it(`answers ${CASES} malformed RTSP requests without a 500 and without closing the relay`, async () => {
    const rand = random(3);
    const base = `rtsp://127.0.0.1:${ports.rtspPort}`;
    const cases = Array.from({ length: CASES }, () => rtspCase(rand, base));
    const statuses = await exchangeAll(ports.rtspPort, cases);
    statuses.forEach((status, i) => {
      const shown = JSON.stringify(cases[i]?.slice(0, 120));
      const allowed = status !== null && (status < 500 || status === 501 || status === 505);
      assert.ok(allowed, `${status} for ${shown}`);
    });
    console.log(`RTSP: ${JSON.stringify(histogram(statuses))}`);
  });

  it('still serves normal requests on every port', { timeout: 30_000 }, async () => {
    const info = await fetch(`http://127.0.0.1:${ports.apiPort}/v3/info`);
    assert.equal(info.status, 200);
    const playlist = await fetch(`http://127.0.0.1:${ports.hlsPort}/cam/index.m3u8`);
    assert.equal(playlist.status, 200);
    assert.match(await playlist.text(), /^#EXTM3U/);
    const reader = await RawReader.connect(`rtsp://127.0.0.1:${ports.rtspPort}/cam`);
    await reader.play(`rtsp://127.0.0.1:${ports.rtspPort}/cam`);
    reader.socket.destroy();
  });
});
