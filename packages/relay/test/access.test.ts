/** Credentials, tokens and outcomes exactly as MediaMTX's authentication manager has them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessControl,
  addressOf,
  httpCredentials,
  parseQuery,
  rtspCredentials,
  type AccessCheck,
  type AuthRequest,
} from '../src/index.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('credentials', () => {
  it('reads HTTP Basic and Bearer as MediaMTX does (Bearer wins)', () => {
    const cases: [string[] | undefined, ReturnType<typeof httpCredentials>][] = [
      [undefined, { user: '', pass: '', token: '' }],
      [[`Basic ${b64('myuser:mypass')}`], { user: 'myuser', pass: 'mypass', token: '' }],
      [[`basic ${b64('a:b:c')}`], { user: 'a', pass: 'b:c', token: '' }],
      [['Bearer myuser:mypass'], { user: 'myuser', pass: 'mypass', token: '' }],
      [['Bearer testing123'], { user: '', pass: '', token: 'testing123' }],
      [[`Basic ${b64('u:p')}`, 'Bearer testing123'], { user: '', pass: '', token: 'testing123' }],
      [[`Basic ${b64('nocolon')}`], { user: '', pass: '', token: '' }],
      [['Basic !!!'], { user: '', pass: '', token: '' }],
      [['Digest username="x"'], { user: '', pass: '', token: '' }],
    ];
    for (const [header, expected] of cases)
      assert.deepEqual(httpCredentials(header), expected, String(header));
  });

  it('reads RTSP Basic (user and password) and Digest (user only)', () => {
    assert.deepEqual(rtspCredentials(`Basic ${b64('any:TOKEN')}`), {
      user: 'any',
      pass: 'TOKEN',
      token: '',
    });
    assert.deepEqual(rtspCredentials('Digest username="bob", realm="ipcam", response="x"'), {
      user: 'bob',
      pass: '',
      token: '',
    });
    for (const bad of [undefined, 'Basic', 'Basic abc', 'Bearer x', `Basic ${b64('a:b')}, x`])
      assert.deepEqual(rtspCredentials(bad), { user: '', pass: '', token: '' }, String(bad));
  });

  it('parses queries as Go does: no token from a query Go calls malformed', () => {
    assert.deepEqual(parseQuery('token=a%20b&x=1&x=2')?.get('x'), ['1', '2']);
    assert.equal(parseQuery('token=a+b')?.get('token')?.[0], 'a b');
    assert.equal(parseQuery('token=%zz'), null);
    assert.equal(parseQuery('token=a;b=c'), null);
    assert.equal(parseQuery('')?.size, 0);
  });

  it('prints addresses as Go prints net.IP', () => {
    assert.equal(addressOf('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(addressOf('::1'), '::1');
    assert.equal(addressOf('10.0.0.2'), '10.0.0.2');
  });
});

describe('AccessControl', () => {
  const base: AccessCheck = {
    action: 'read',
    path: 'cam0',
    query: '',
    protocol: 'rtsp',
    id: 'c0ffee00-0000-4000-8000-000000000000',
    remote: '::ffff:127.0.0.1',
    credentials: { user: '', pass: '', token: '' },
  };
  function recording(answer: boolean | (() => Promise<boolean>)) {
    const seen: AuthRequest[] = [];
    const access = new AccessControl({
      failPauseMs: 150,
      hook: async (request) => {
        seen.push(request);
        return typeof answer === 'function' ? answer() : answer;
      },
    });
    return { access, seen };
  }

  it('fills the token as MediaMTX: bearer, else password, else the RTSP query', async () => {
    const cases: [Partial<AccessCheck>, string][] = [
      [{ query: 'token=q1' }, 'q1'],
      [{ query: 'jwt=legacy' }, 'legacy'],
      [{ query: 'token=a&token=b' }, ''],
      [{ query: 'token=a&jwt=b' }, 'a'],
      [{ query: 'token=%zz' }, ''],
      [{ query: 'token=q1', credentials: { user: 'u', pass: 'p', token: '' } }, 'p'],
      [{ query: 'token=q1', credentials: { user: '', pass: '', token: 'bearer' } }, 'bearer'],
      [{ query: 'token=q1', protocol: 'hls' }, ''],
    ];
    for (const [change, token] of cases) {
      const { access, seen } = recording(true);
      assert.equal(await access.check({ ...base, ...change }), 'allowed');
      assert.equal(seen[0]?.token, token, JSON.stringify(change));
    }
  });

  it('sends the hook MediaMTX request for an RTSP read with credentials', async () => {
    const { access, seen } = recording(true);
    await access.check({
      ...base,
      query: 'token=ignored',
      credentials: { user: 'any', pass: 'TOKEN', token: '' },
    });
    assert.deepEqual(seen, [
      {
        ip: '127.0.0.1',
        user: 'any',
        password: 'TOKEN',
        token: 'TOKEN',
        action: 'read',
        path: 'cam0',
        protocol: 'rtsp',
        id: base.id,
        query: 'token=ignored',
      },
    ]);
  });

  it('asks for credentials at once when none came, and pauses before refusing ones that did', async () => {
    const { access } = recording(false);
    let started = performance.now();
    assert.equal(await access.check(base), 'ask');
    assert.ok(performance.now() - started < 100, 'no pause without credentials');
    started = performance.now();
    const withPassword = { ...base, credentials: { user: 'a', pass: 'b', token: '' } };
    assert.equal(await access.check(withPassword), 'denied');
    assert.ok(performance.now() - started >= 140, 'paused before refusing');
    // A token in the RTSP query is a credential too: refused after the pause.
    assert.equal(await access.check({ ...base, query: 'token=bad' }), 'denied');
    // In an HLS query it is not read: the request carried none.
    assert.equal(await access.check({ ...base, protocol: 'hls', query: 'token=x' }), 'ask');
  });

  it('treats a hook that throws as a refusal', async () => {
    const { access } = recording(() => Promise.reject(new Error('boom')));
    assert.equal(await access.check(base), 'ask');
  });

  it("allows the relay's own muxer token for RTSP reads without asking the hook", async () => {
    const { access, seen } = recording(false);
    const internal = { ...base, query: `token=${access.internalToken}` };
    assert.equal(await access.check(internal), 'allowed');
    assert.equal(seen.length, 0);
    // Only for reading: as a publisher it is just a wrong token.
    assert.equal(await access.check({ ...internal, action: 'publish' }), 'denied');
    assert.equal(await access.check({ ...internal, protocol: 'hls' }), 'ask');
  });

  it('allows everything without a hook', async () => {
    assert.equal(await new AccessControl().check({ ...base, action: 'publish' }), 'allowed');
  });
});
