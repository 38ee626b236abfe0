import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { ClientResolver } from '../../src/transport/index.js';

function req(peer: string, headers: Record<string, string> = {}, encrypted = false) {
  return { socket: { remoteAddress: peer, encrypted }, headers } as unknown as IncomingMessage;
}

describe('client address through trusted proxies', () => {
  it('believes the forwarded headers only from a trusted proxy', () => {
    const resolver = new ClientResolver(['10.0.0.0/8']);
    const forwarded = {
      'x-forwarded-for': '203.0.113.5, 10.1.1.1',
      'x-forwarded-host': 'cams.example.com',
      'x-forwarded-proto': 'https',
      host: '10.0.0.2:8002',
    };
    assert.deepEqual(resolver.resolve(req('10.0.0.2', forwarded)), {
      address: '203.0.113.5',
      host: 'cams.example.com',
      secure: true,
      proxied: true,
    });
    assert.deepEqual(resolver.resolve(req('192.0.2.9', forwarded)), {
      address: '192.0.2.9',
      host: '10.0.0.2',
      secure: false,
      proxied: false,
    });
  });

  it('stops at the first untrusted hop from the right: a client cannot prepend an address', () => {
    const resolver = new ClientResolver(['10.0.0.0/8']);
    const spoofed = { 'x-forwarded-for': '1.2.3.4, 198.51.100.7, 10.9.9.9' };
    assert.equal(resolver.address(req('10.0.0.2', spoofed)), '198.51.100.7');
  });

  it('writes IPv4-mapped addresses as IPv4, and keeps the socket when nothing is trusted', () => {
    assert.equal(new ClientResolver().address(req('::ffff:127.0.0.1')), '127.0.0.1');
    const none = new ClientResolver();
    assert.equal(none.address(req('127.0.0.1', { 'x-forwarded-for': '9.9.9.9' })), '127.0.0.1');
    none.setTrustedProxies(['127.0.0.1']);
    assert.equal(none.address(req('127.0.0.1', { 'x-forwarded-for': '9.9.9.9' })), '9.9.9.9');
  });

  it('refuses a forwarded host that is not a plain host name', () => {
    const resolver = new ClientResolver(['127.0.0.1']);
    const info = resolver.resolve(
      req('127.0.0.1', { 'x-forwarded-host': 'evil.example/<script>', host: 'box' }),
    );
    assert.equal(info.host, null);
  });
});
