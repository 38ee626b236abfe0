/**
 * Every method the server registers × every kind of credential, presented two ways
 * (authenticate first, or auth_token in the call's params), with the exact outcome.
 * New methods join the matrix by themselves; each needs sample params below.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RpcError, type CameraServiceClient } from '@camera-service/sdk';
import { JwtService } from '../../src/auth/index.js';
import { ROLES, roleSatisfies, type MethodContract, type Role } from '../../src/rpc/index.js';
import { TEST_JWT_SECRET, startApp, type TestApp } from '../helpers/app.js';

/** Valid params for each method, so an allowed call must succeed outright. */
const SAMPLE_PARAMS: Record<string, (credential: string) => Record<string, unknown>> = {
  authenticate: (credential) => ({ auth_token: credential }),
  ping: () => ({}),
  get_server_info: () => ({}),
  get_status: () => ({}),
  get_metrics: () => ({}),
  get_streams: () => ({}),
  get_camera_list: () => ({}),
  get_camera_status: () => ({ device: 'test0' }),
  take_snapshot: () => ({ device: 'test0' }),
  // Methods are called in registration order for each credential: every start is
  // followed by its stop, so an allowed stop always finds a recording.
  start_recording: () => ({ device: 'test0' }),
  stop_recording: () => ({ device: 'test0' }),
  list_recordings: () => ({}),
  list_snapshots: () => ({ limit: 5 }),
  // Files made in before(): the info calls read one, each delete takes one of its own.
  get_recording_info: () => ({ filename: 'matrix_2026-01-01_00-00-00_001.mp4' }),
  get_snapshot_info: () => ({ filename: 'matrix-info.jpg' }),
  delete_recording: () => ({ filename: nextDoomed('mp4') }),
  delete_snapshot: () => ({ filename: nextDoomed('jpg') }),
  get_storage_info: () => ({}),
  set_retention_policy: () => ({ policy_type: 'manual', enabled: false }),
  cleanup_old_files: () => ({}),
  list_api_keys: () => ({}),
  create_api_key: () => ({ name: `matrix-key-${(doomedCounter += 1)}`, role: 'viewer' }),
  // Keys made in before(): each call revokes one of its own.
  revoke_api_key: () => ({ id: doomedKeys.shift() ?? '00000000' }),
};

/** Key ids for revoke_api_key's calls, one each. */
const doomedKeys: string[] = [];

/** A fresh file name per delete call: an allowed delete must find its file. */
let doomedCounter = 0;
function nextDoomed(extension: string): string {
  doomedCounter += 1;
  return `doomed-${doomedCounter}.${extension}`;
}

type CredentialKind =
  'none' | Role | 'expired_jwt' | 'wrong_signature_jwt' | 'alg_none_jwt' | 'revoked_api_key';
const KINDS: CredentialKind[] = [
  'none',
  ...ROLES,
  'expired_jwt',
  'wrong_signature_jwt',
  'alg_none_jwt',
  'revoked_api_key',
];
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The exact outcome: 'ok' or an error code. */
function expected(contract: MethodContract, kind: CredentialKind): 'ok' | number {
  const valid = kind === 'viewer' || kind === 'operator' || kind === 'admin';
  if (contract.name === 'authenticate') {
    if (kind === 'none') return -32602; // auth_token is required
    return valid ? 'ok' : -32001;
  }
  if (!valid) return -32001;
  return roleSatisfies(kind, contract.access as Role) ? 'ok' : -32003;
}

describe('authorization matrix', () => {
  let t: TestApp;
  const credentials = new Map<CredentialKind, string>();
  before(async () => {
    // Failures are the point here: the per-address throttle must not turn them into -32002.
    t = await startApp({
      auth: { failed_attempts: { limit: 10_000, window_seconds: 60 } },
      cameras: [{ id: 'test0', test_pattern: { size: '320x240', fps: 10, clock: false } }],
    });
    for (let i = 1; i <= 200; i += 1) {
      writeFileSync(join(t.config.storage.recordings_dir, `doomed-${i}.mp4`), 'x');
      writeFileSync(join(t.config.storage.snapshots_dir, `doomed-${i}.jpg`), 'x');
    }
    writeFileSync(
      join(t.config.storage.recordings_dir, 'matrix_2026-01-01_00-00-00_001.mp4'),
      'not really a recording',
    );
    writeFileSync(join(t.config.storage.snapshots_dir, 'matrix-info.jpg'), 'not really a JPEG');
    for (let i = 1; i <= 100; i += 1) {
      doomedKeys.push(t.app.apiKeys.create({ name: `doomed-key-${i}`, role: 'viewer' }).info.id);
    }
    for (const role of ROLES) {
      // Roles come as a JWT for viewer/admin and as an API key for operator: both paths are covered.
      credentials.set(
        role,
        role === 'operator' ? t.app.apiKeys.create({ name: 'op', role }).key : await t.token(role),
      );
    }
    const past = new JwtService(TEST_JWT_SECRET, { now: () => Date.now() - 7_200_000 });
    credentials.set(
      'expired_jwt',
      await past.mint({ role: 'admin', subject: 'x', ttlSeconds: 3600 }),
    );
    credentials.set(
      'wrong_signature_jwt',
      await new JwtService('z'.repeat(48)).mint({ role: 'admin', subject: 'x', ttlSeconds: 3600 }),
    );
    credentials.set(
      'alg_none_jwt',
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', role: 'admin', exp: 9e9 })}.`,
    );
    const revoked = t.app.apiKeys.create({ name: 'gone', role: 'admin' });
    t.app.apiKeys.revoke('gone');
    credentials.set('revoked_api_key', revoked.key);
  });
  after(() => t.stop());

  async function outcome(
    client: CameraServiceClient,
    method: string,
    params: Record<string, unknown>,
  ) {
    try {
      await client.request(method, params);
      return 'ok';
    } catch (error) {
      assert.ok(error instanceof RpcError, String(error));
      return error.code;
    }
  }

  it('has sample params for every registered method', () => {
    const missing = t.app.methods
      .contracts()
      .filter((c) => !SAMPLE_PARAMS[c.name])
      .map((c) => c.name);
    assert.deepEqual(missing, [], 'add sample params for these methods');
  });

  for (const mode of ['authenticate first', 'auth_token in the params'] as const) {
    it(`gives the exact outcome for every method and credential (${mode})`, async () => {
      const cells: string[] = [];
      const wrong: string[] = [];
      for (const kind of KINDS) {
        const credential = credentials.get(kind) ?? '';
        for (const contract of t.app.methods.contracts()) {
          const client = await t.connect({ as: null });
          let params = SAMPLE_PARAMS[contract.name]!(credential);
          if (kind !== 'none' && contract.name !== 'authenticate') {
            if (mode === 'authenticate first')
              await client
                .request('authenticate', { auth_token: credential })
                .catch(() => undefined);
            else params = { ...params, auth_token: credential };
          }
          const got = await outcome(client, contract.name, params);
          const want = expected(contract, kind);
          cells.push(`${contract.name} × ${kind}`);
          if (got !== want) wrong.push(`${contract.name} × ${kind}: expected ${want}, got ${got}`);
          await client.close();
        }
      }
      assert.deepEqual(wrong, []);
      assert.equal(cells.length, t.app.methods.contracts().length * KINDS.length);
    });
  }

  it('refuses every non-public method to an anonymous connection: no method is reachable without a role', async () => {
    const client = await t.connect({ as: null });
    for (const contract of t.app.methods.contracts()) {
      if (contract.access === 'public') continue;
      assert.equal(
        await outcome(client, contract.name, SAMPLE_PARAMS[contract.name]!('')),
        -32001,
        contract.name,
      );
    }
    assert.deepEqual(
      t.app.methods
        .contracts()
        .filter((c) => c.access === 'public')
        .map((c) => c.name),
      ['authenticate'],
    );
  });
});
