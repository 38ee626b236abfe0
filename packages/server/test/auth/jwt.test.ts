import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthFailure, JwtService, parseTtl } from '../../src/auth/index.js';

const SECRET = 'x'.repeat(40);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function reason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected the token to be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AuthFailure);
  assert.equal(error.code, -32001);
  return error.reason;
}

describe('JWT', () => {
  const jwt = new JwtService(SECRET);

  it('mints a token that verifies to its subject, role and expiry', async () => {
    const before = Date.now();
    const token = await jwt.mint({ role: 'operator', subject: 'alice', ttlSeconds: 3600 });
    const verified = await jwt.verify(token);
    assert.equal(verified.subject, 'alice');
    assert.equal(verified.role, 'operator');
    assert.ok(Math.abs(verified.expiresAt - (before + 3_600_000)) < 2000);
  });

  it('refuses an expired token as expired', async () => {
    const past = new JwtService(SECRET, { now: () => Date.now() - 7_200_000 });
    const token = await past.mint({ role: 'admin', subject: 'a', ttlSeconds: 3600 });
    assert.equal(await reason(jwt.verify(token)), 'token_expired');
  });

  const invalid: [string, () => Promise<string>][] = [
    [
      'a token signed with another secret',
      () => new JwtService('y'.repeat(40)).mint({ role: 'admin', subject: 'a', ttlSeconds: 60 }),
    ],
    [
      'an unsigned token (alg none)',
      async () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', role: 'admin', exp: 9e9 })}.`,
    ],
    [
      'a token whose signature was kept but payload changed',
      async () => {
        const [h, , sig] = (await jwt.mint({ role: 'viewer', subject: 'a', ttlSeconds: 60 })).split(
          '.',
        );
        return `${h}.${b64({ sub: 'a', role: 'admin', exp: 9e9 })}.${sig}`;
      },
    ],
    [
      'a token with an unknown role',
      async () => {
        const { SignJWT } = await import('jose');
        return new SignJWT({ role: 'root' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('a')
          .setExpirationTime('1h')
          .sign(Buffer.from(SECRET));
      },
    ],
    [
      'a token without exp',
      async () => {
        const { SignJWT } = await import('jose');
        return new SignJWT({ role: 'admin' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('a')
          .sign(Buffer.from(SECRET));
      },
    ],
    [
      'a token signed with HS512',
      async () => {
        const { SignJWT } = await import('jose');
        return new SignJWT({ role: 'admin' })
          .setProtectedHeader({ alg: 'HS512' })
          .setSubject('a')
          .setExpirationTime('1h')
          .sign(Buffer.from(SECRET.repeat(2)));
      },
    ],
    ['garbage', async () => 'not.a.jwt'],
    ['an empty string', async () => ''],
  ];
  for (const [name, make] of invalid) {
    it(`refuses ${name} as invalid, saying nothing of why`, async () => {
      assert.equal(await reason(jwt.verify(await make())), 'invalid_token');
    });
  }
});

describe('token lifetimes', () => {
  const cases: [string, number][] = [
    ['3600', 3600],
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['1.5h', 5400],
    ['7d', 604800],
  ];
  for (const [text, seconds] of cases) {
    it(`reads ${text} as ${seconds} s`, () => assert.equal(parseTtl(text), seconds));
  }
  for (const bad of ['', 'h', '1w', '-1h', '0', 'soon']) {
    it(`refuses "${bad}"`, () => assert.throws(() => parseTtl(bad), /lifetime|shorter/));
  }
});
