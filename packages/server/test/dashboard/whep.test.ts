/**
 * The WHEP proxy against a stand-in for MediaMTX's WebRTC server (a real HTTP server on
 * loopback): the offer goes through with the service's reader credential (never the
 * viewer's), the answer and its session Location come back under /streams/, and the
 * session's PATCH and DELETE reach the same place.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serveStream } from '../../src/dashboard/index.js';
import { request } from './http.js';

describe('the WHEP proxy', () => {
  const seen: { method: string; url: string; auth: string; body: string }[] = [];
  let upstream: http.Server;
  let front: http.Server;
  let port: number;
  before(async () => {
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          auth: req.headers.authorization ?? '',
          body: Buffer.concat(chunks).toString(),
        });
        if (req.method === 'POST') {
          res.writeHead(201, {
            'content-type': 'application/sdp',
            location: '/cam/whep/0f1e2d3c-aaaa',
          });
          res.end('v=0\r\no=answer\r\n');
        } else res.writeHead(204).end();
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    front = http.createServer((req, res) => {
      void serveStream(
        req,
        res,
        {
          hasPath: (p) => p === 'cam',
          hlsBase: () => base,
          webrtcBase: () => base,
          reader: () => ({ user: 'camera-service-reader', password: 'pw' }),
        },
        { principal: null as never, queryToken: null },
      );
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    port = (front.address() as AddressInfo).port;
  });
  after(() => {
    upstream.close();
    front.close();
  });

  it('passes the offer with the reader credential and rewrites the session under /streams/', async () => {
    const answer = await request(port, 'POST', '/streams/cam/whep?token=viewer-secret', {
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0\r\no=offer\r\n',
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, 'v=0\r\no=answer\r\n');
    assert.equal(answer.headers.location, '/streams/cam/whep/0f1e2d3c-aaaa');
    const offer = seen.at(-1)!;
    assert.equal(offer.url, '/cam/whep');
    assert.equal(offer.body, 'v=0\r\no=offer\r\n');
    assert.equal(offer.auth, `Basic ${Buffer.from('camera-service-reader:pw').toString('base64')}`);
    const patch = await request(port, 'PATCH', '/streams/cam/whep/0f1e2d3c-aaaa', {
      headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
      body: 'a=candidate',
    });
    assert.equal(patch.status, 204);
    assert.equal(seen.at(-1)!.url, '/cam/whep/0f1e2d3c-aaaa');
    assert.equal((await request(port, 'DELETE', '/streams/cam/whep/0f1e2d3c-aaaa')).status, 204);
    assert.equal(seen.at(-1)!.method, 'DELETE');
    assert.equal((await request(port, 'GET', '/streams/cam/whep')).status, 405);
    assert.equal((await request(port, 'POST', '/streams/other/whep')).status, 404);
  });
});
