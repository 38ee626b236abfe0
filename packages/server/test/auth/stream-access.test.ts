/**
 * Who may publish and read the camera streams: the checker the media server asks for
 * every action (MediaMTX's HTTP authentication request), with real JWTs, API keys, the
 * failure throttle and the audit log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ApiKeyStore,
  Authenticator,
  FailureThrottle,
  JwtService,
  StreamAccess,
  type StreamAuthRequest,
} from '../../src/auth/index.js';
import { createLogger } from '../../src/index.js';
import { newMediaCredentials } from '../../src/media/index.js';
import { TEST_JWT_SECRET, TestClock } from '../helpers/app.js';
import { tempDir } from '../helpers/files.js';
import { LogSink } from '../helpers/log-sink.js';

function setup(options: { anonymous?: boolean; limit?: number } = {}) {
  const clock = new TestClock();
  const audit = new LogSink();
  const log = createLogger({
    level: 'debug',
    format: 'json',
    environment: 'development',
    destination: audit,
  }).logger;
  const jwt = new JwtService(TEST_JWT_SECRET, { now: clock.now });
  const keys = new ApiKeyStore({ file: join(tempDir(), 'api-keys.json') });
  const authenticator = new Authenticator({
    jwt,
    keys,
    throttle: new FailureThrottle({ limit: options.limit ?? 10, windowMs: 60_000 }),
    audit: log,
    now: clock.now,
  });
  const credentials = newMediaCredentials();
  let anonymous = options.anonymous ?? false;
  const access = new StreamAccess({
    authenticator,
    credentials,
    anonymousViewing: () => anonymous,
    localAddresses: () => ['192.0.2.10'],
    audit: log,
    now: clock.now,
  });
  return {
    access,
    credentials,
    keys,
    audit,
    clock,
    token: (role: 'viewer' | 'operator' | 'admin', ttlSeconds = 600) =>
      jwt.mint({ role, subject: `stream-${role}`, ttlSeconds }),
    setAnonymous: (value: boolean) => (anonymous = value),
  };
}

/** A request as MediaMTX sends it, with the fields a test does not care about empty. */
function request(fields: Partial<StreamAuthRequest>): StreamAuthRequest {
  return {
    ip: '127.0.0.1',
    user: '',
    password: '',
    token: '',
    action: 'read',
    path: 'test0',
    protocol: 'rtsp',
    id: null,
    query: '',
    ...fields,
  };
}

describe('stream access', () => {
  it('lets only the service publish, from this machine, with its own credential', async () => {
    const s = setup();
    const { publisher, reader } = s.credentials;
    const cases: [string, Partial<StreamAuthRequest>, boolean][] = [
      [
        'the publisher credential from loopback',
        { ...publisher, password: publisher.password },
        true,
      ],
      ['it from the listen address', { ...publisher, ip: '192.0.2.10' }, true],
      ['it from IPv4-mapped loopback', { ...publisher, ip: '::ffff:127.0.0.1' }, true],
      ['it from another machine', { ...publisher, ip: '198.51.100.7' }, false],
      ['a wrong password', { user: publisher.user, password: 'guess' }, false],
      ['no credential', {}, false],
      ['the reader credential', { ...reader }, false],
      ['an admin JWT', { user: 'any', password: await s.token('admin') }, false],
    ];
    for (const [name, fields, allowed] of cases) {
      const decision = await s.access.check(request({ action: 'publish', ...fields }));
      assert.equal(decision.allow, allowed, name);
      if (!decision.allow) assert.equal(decision.status, 401, name);
    }
    assert.ok(s.audit.find((r) => r.event === 'stream_denied' && r.action === 'publish'));
  });

  it('lets every role watch with its credential where players put one, and nobody without', async () => {
    const s = setup();
    const key = s.keys.create({ name: 'lobby', role: 'viewer' }).key;
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const token = await s.token(role);
      for (const fields of [
        { user: 'any', password: token },
        { token },
        { query: `token=${encodeURIComponent(token)}` },
        { query: `a=1&jwt=${token}` },
      ]) {
        for (const protocol of ['rtsp', 'hls', 'webrtc']) {
          const decision = await s.access.check(request({ ...fields, protocol }));
          assert.deepEqual(
            decision,
            { allow: true, who: `stream-${role}` },
            JSON.stringify(fields),
          );
        }
      }
    }
    assert.deepEqual(await s.access.check(request({ password: key })), {
      allow: true,
      who: 'lobby',
    });
    const anonymous = await s.access.check(request({}));
    assert.deepEqual(anonymous, {
      allow: false,
      status: 401,
      reason: 'a viewer credential is required',
    });
    assert.equal(
      s.audit.records.filter((r) => r.event === 'auth_failure').length,
      0,
      'asking without a credential is how players start: not a failure',
    );
  });

  it('refuses expired, forged and revoked credentials, and the reader credential from elsewhere', async () => {
    const s = setup();
    const expired = await s.token('viewer', 1);
    const { key } = s.keys.create({ name: 'gone', role: 'viewer' });
    s.keys.revoke('gone');
    s.clock.advance(2000);
    const forged = `${(await s.token('admin')).slice(0, -2)}xx`;
    for (const password of [expired, forged, key, 'nonsense']) {
      const decision = await s.access.check(request({ user: 'any', password }));
      assert.equal(decision.allow, false);
      assert.equal(decision.allow === false && decision.status, 401);
    }
    const { reader } = s.credentials;
    assert.equal((await s.access.check(request({ ...reader }))).allow, true);
    assert.equal((await s.access.check(request({ ...reader, ip: '198.51.100.7' }))).allow, false);
  });

  it('keeps the control API to the service and offers no metrics or pprof', async () => {
    const s = setup();
    const { api } = s.credentials;
    assert.equal((await s.access.check(request({ action: 'api', ...api }))).allow, true);
    const admin = await s.token('admin');
    const denied = await s.access.check(request({ action: 'api', user: 'any', password: admin }));
    assert.equal(denied.allow === false && denied.status, 401);
    for (const action of ['metrics', 'pprof']) {
      const decision = await s.access.check(request({ action, ...api }));
      assert.equal(decision.allow === false && decision.status, 403, action);
    }
  });

  it('lets anyone watch when anonymous viewing is on, but never publish', async () => {
    const s = setup({ anonymous: true });
    assert.deepEqual(await s.access.check(request({})), { allow: true, who: 'anonymous' });
    assert.equal((await s.access.check(request({ action: 'publish' }))).allow, false);
    s.setAnonymous(false);
    assert.equal((await s.access.check(request({}))).allow, false, 'the setting is live');
  });

  it('throttles the failures of an address, never a valid credential from it', async () => {
    const s = setup({ limit: 3 });
    const ip = '198.51.100.9';
    for (let i = 0; i < 3; i += 1) {
      const d = await s.access.check(request({ ip, password: 'wrong' }));
      assert.equal(d.allow === false && d.status, 401);
    }
    const throttled = await s.access.check(request({ ip, password: 'wrong' }));
    assert.equal(throttled.allow === false && throttled.status, 429);
    const valid = await s.access.check(request({ ip, password: await s.token('viewer') }));
    assert.equal(valid.allow, true);
  });

  it('verifies a credential once per half minute, and still notices a revocation at once', async () => {
    const s = setup();
    const { key, info } = s.keys.create({ name: 'kiosk', role: 'viewer' });
    for (let i = 0; i < 20; i += 1) {
      assert.equal(
        (await s.access.check(request({ query: `token=${key}`, protocol: 'hls' }))).allow,
        true,
      );
    }
    assert.equal(s.audit.records.filter((r) => r.event === 'auth_success').length, 1);
    s.keys.revoke(info.id);
    const after = await s.access.check(request({ query: `token=${key}`, protocol: 'hls' }));
    assert.equal(after.allow, false);
    s.clock.advance(31_000);
    assert.equal(
      (await s.access.check(request({ password: await s.token('viewer') }))).allow,
      true,
    );
  });
});
