/** Request targets and RTSP URLs: read without throwing, split as MediaMTX splits them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTarget, rtspTarget, withQuery } from '../src/index.js';

describe('HTTP request targets', () => {
  it('splits origin- and absolute-form targets into decoded path and raw query', () => {
    const cases: [string, ReturnType<typeof parseTarget>][] = [
      ['/cam/index.m3u8?token=a%20b', { path: '/cam/index.m3u8', query: 'token=a%20b' }],
      // Go reads these as paths too (an origin-form target has no authority).
      ['//a:b', { path: '//a:b', query: '' }],
      ['//[', { path: '//[', query: '' }],
      ['/%2e%2e/x', { path: '/../x', query: '' }],
      ['/caf%C3%A9', { path: '/café', query: '' }],
      ['/%ff', { path: '/\ufffd', query: '' }],
      ['http://host:1/v3/info?x=1', { path: '/v3/info', query: 'x=1' }],
      ['/a?b?c', { path: '/a', query: 'b?c' }],
    ];
    for (const [raw, expected] of cases) assert.deepEqual(parseTarget(raw), expected, raw);
  });

  it('gives null (answered 400) for what Go would not parse', () => {
    for (const raw of ['', '*', 'abc', '%zz', '/%zz', '/a%2', 'http://[::1/x', '/a b', '/\u0000'])
      assert.equal(parseTarget(raw), null, JSON.stringify(raw));
  });
});

describe('RTSP URLs', () => {
  it('takes the track control off the query or the path, as gortsplib does', () => {
    const cases: [string, Parameters<typeof rtspTarget>[1], ReturnType<typeof rtspTarget>][] = [
      ['rtsp://h/cam', 'other', { path: 'cam', query: '', control: null }],
      ['rtsp://h/cam?token=x/', 'other', { path: 'cam', query: 'token=x', control: null }],
      ['rtsp://h/cam/', 'other', { path: 'cam', query: '', control: null }],
      [
        'rtsp://h/cam?token=x/trackID=0',
        'setup',
        { path: 'cam', query: 'token=x', control: 'trackID=0' },
      ],
      [
        'rtsp://h/cam/trackID=1?token=x',
        'setup',
        { path: 'cam', query: 'token=x', control: 'trackID=1' },
      ],
      [
        'rtsp://h/cam?t=1/streamid=0',
        'setup',
        { path: 'cam', query: 't=1', control: 'streamid=0' },
      ],
      ['rtsp://h/cam/streamid=0', 'setup', { path: 'cam/streamid=0', query: '', control: null }],
      ['rtsp://h/a/b?x=/', 'announce', { path: 'a/b', query: 'x=/', control: null }],
    ];
    for (const [uri, kind, expected] of cases)
      assert.deepEqual(rtspTarget(uri, kind), expected, uri);
  });

  it('gives null for what is not an rtsp:// URL', () => {
    for (const uri of ['*', 'http://h/cam', 'rtsp://[', 'rtsp://h/%zz'])
      assert.equal(rtspTarget(uri, 'other'), null, uri);
  });
});

describe('HLS playlists', () => {
  it('carry the request query on every URI, as gohlslib writes them', () => {
    const playlist =
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1.0,\nseg00001.ts\n#EXTINF:1.0,\r\nseg00002.ts\r\n';
    assert.equal(
      withQuery(playlist, 'token=a$&b'),
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MAP:URI="init.mp4?token=a$&b"\n#EXTINF:1.0,\nseg00001.ts?token=a$&b\n#EXTINF:1.0,\r\nseg00002.ts?token=a$&b\r\n',
    );
    assert.equal(withQuery(playlist, ''), playlist);
  });
});
