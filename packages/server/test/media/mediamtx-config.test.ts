import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  mediamtxConfig,
  mediamtxEnvironment,
  writeMediaMtxConfig,
  type MediaMtxConfigOptions,
} from '../../src/media/mediamtx-config.js';
import { tempDir } from '../helpers/files.js';
import { sharedFile } from '../helpers/repo.js';

/** MediaMTX's own sample configuration, in ../shared beside the repository. */
const REFERENCE = sharedFile('reference/mediamtx/mediamtx.yml');
/**
 * The global settings of MediaMTX before v1.15 (internal/conf/conf.go of a v1.11-era
 * release, read in the source): settings are deprecated rather than removed, so a key in
 * both this list and the v1.20 reference exists in every version from v1.15 to v1.20.
 */
const OLDER_KEYS = new Set(
  [
    'logLevel logDestinations logFile sysLogPrefix readTimeout writeTimeout writeQueueSize',
    'udpMaxPayloadSize runOnConnect runOnConnectRestart runOnDisconnect authMethod',
    'authInternalUsers authHTTPAddress authHTTPExclude authJWTJWKS authJWTClaimKey',
    'authJWTExclude api apiAddress apiEncryption apiTrustedProxies metrics metricsAddress',
    'pprof pprofAddress playback playbackAddress rtsp rtspTransports rtspEncryption',
    'rtspAddress rtspsAddress rtpAddress rtcpAddress multicastIPRange multicastRTPPort',
    'multicastRTCPPort rtspAuthMethods rtmp rtmpAddress rtmpEncryption rtmpsAddress hls',
    'hlsAddress hlsEncryption hlsAlwaysRemux hlsVariant hlsSegmentCount hlsSegmentDuration',
    'hlsPartDuration hlsSegmentMaxSize hlsDirectory hlsMuxerCloseAfter webrtc webrtcAddress',
    'webrtcEncryption webrtcLocalUDPAddress webrtcLocalTCPAddress webrtcIPsFromInterfaces',
    'webrtcIPsFromInterfacesList webrtcAdditionalHosts webrtcICEServers2',
    'webrtcHandshakeTimeout webrtcTrackGatherTimeout webrtcSTUNGatherTimeout srt srtAddress',
    'pathDefaults paths',
  ]
    .join(' ')
    .split(' '),
);

const OPTIONS: MediaMtxConfigOptions = {
  apiPort: 9997,
  rtspPort: 8554,
  hlsPort: 8888,
  webrtcPort: 8889,
  listenHost: '',
  apiUser: 'camera-service',
  apiPassword: 'Zm9v-YmFy_MTIz',
  rtspTransports: ['tcp'],
  logLevel: 'info',
};

type Doc = Record<string, unknown>;
const parsed = (options: Partial<MediaMtxConfigOptions> = {}): Doc =>
  parse(mediamtxConfig({ ...OPTIONS, ...options })) as Doc;

describe('mediamtxConfig', () => {
  it('writes the decided managed-mode configuration', () => {
    const doc = parsed();
    assert.deepEqual(doc, {
      logLevel: 'info',
      logDestinations: ['stdout'],
      authMethod: 'internal',
      authInternalUsers: [
        { user: 'any', ips: [], permissions: [{ action: 'read' }, { action: 'playback' }] },
        { user: 'any', ips: ['127.0.0.1', '::1'], permissions: [{ action: 'publish' }] },
        {
          user: 'camera-service',
          pass: 'Zm9v-YmFy_MTIz',
          ips: ['127.0.0.1', '::1'],
          permissions: [{ action: 'api' }],
        },
      ],
      api: true,
      apiAddress: '127.0.0.1:9997',
      metrics: false,
      pprof: false,
      playback: false,
      rtsp: true,
      rtspTransports: ['tcp'],
      rtspAddress: ':8554',
      rtmp: false,
      hls: true,
      hlsAddress: ':8888',
      webrtc: true,
      webrtcAddress: ':8889',
      webrtcLocalUDPAddress: ':8189',
      webrtcLocalTCPAddress: '',
      srt: false,
      paths: {},
    });
  });

  it('puts WebRTC media on the listen host and its own UDP port, and can turn WebRTC off', () => {
    const all = parsed({ webrtcIceUdpPort: 18189 });
    assert.equal(all.webrtcLocalUDPAddress, ':18189');
    assert.equal('webrtcIPsFromInterfaces' in all, false, 'every interface is a candidate');
    const one = parsed({ listenHost: '192.168.1.20', webrtcIceUdpPort: 18189 });
    assert.equal(one.webrtcLocalUDPAddress, '192.168.1.20:18189');
    assert.equal(one.webrtcLocalTCPAddress, '', 'ICE over TCP stays closed');
    assert.equal(one.webrtcIPsFromInterfaces, false);
    assert.deepEqual(one.webrtcAdditionalHosts, ['192.168.1.20'], 'the only address it listens on');
    const off = parsed({ webrtcPort: null });
    assert.equal(off.webrtc, false);
    for (const key of ['webrtcAddress', 'webrtcLocalUDPAddress']) assert.equal(key in off, false);
  });

  it("runs MediaMTX without the service's MTX_ and RTSP_ variables, and with MoQ off", () => {
    const env = mediamtxEnvironment({
      PATH: '/usr/bin',
      MTX_RTSPADDRESS: ':1',
      RTSP_PROTOCOLS: 'udp',
      MTX_MOQ: 'yes',
    });
    assert.deepEqual(env, { PATH: '/usr/bin', MTX_MOQ: 'no', MTX_SRTLA: 'no' });
  });

  it("asks the service's hook for every action, the API's included, when given one", () => {
    const doc = parsed({
      authHttpAddress: 'http://127.0.0.1:9995/mediamtx/auth',
      readTimeout: '10s',
      writeTimeout: '5s',
    });
    assert.equal(doc.authMethod, 'http');
    assert.equal(doc.authHTTPAddress, 'http://127.0.0.1:9995/mediamtx/auth');
    assert.deepEqual(doc.authHTTPExclude, []);
    assert.equal(doc.authInternalUsers, undefined, 'no user may do anything without the hook');
    assert.equal(doc.readTimeout, '10s');
    assert.equal(doc.writeTimeout, '5s');
  });

  it('starts with a comment saying the file is generated and edits are lost', () => {
    const text = mediamtxConfig(OPTIONS);
    assert.match(text, /^# Generated by camera-service/);
    assert.match(text, /rewritten on every start and your changes would be lost/);
  });

  it('listens on the given host, with IPv6 addresses in brackets; the API stays on loopback', () => {
    assert.equal(parsed({ listenHost: '0.0.0.0' }).rtspAddress, ':8554');
    const v4 = parsed({ listenHost: '192.168.1.20' });
    assert.equal(v4.rtspAddress, '192.168.1.20:8554');
    assert.equal(v4.hlsAddress, '192.168.1.20:8888');
    assert.equal(v4.webrtcAddress, '192.168.1.20:8889');
    assert.equal(v4.apiAddress, '127.0.0.1:9997');
    assert.equal(parsed({ listenHost: '::' }).rtspAddress, '[::]:8554');
    assert.equal(parsed({ listenHost: '[fe80::1]' }).hlsAddress, '[fe80::1]:8888');
  });

  it('lets the bridges publish from the listen address when it is not every address', () => {
    const publishers = (doc: Doc) =>
      (doc.authInternalUsers as { ips: string[]; permissions: { action: string }[] }[]).find((u) =>
        u.permissions.some((p) => p.action === 'publish'),
      )?.ips;
    assert.deepEqual(publishers(parsed({ listenHost: '0.0.0.0' })), ['127.0.0.1', '::1']);
    assert.deepEqual(publishers(parsed({ listenHost: '192.168.1.20' })), [
      '127.0.0.1',
      '::1',
      '192.168.1.20',
    ]);
    assert.deepEqual(publishers(parsed({ listenHost: '[fe80::1]' })), [
      '127.0.0.1',
      '::1',
      'fe80::1',
    ]);
  });

  it('writes the RTP and RTCP addresses only when UDP is enabled', () => {
    assert.equal('rtpAddress' in parsed(), false);
    assert.equal('rtcpAddress' in parsed(), false);
    const udp = parsed({ rtspTransports: ['udp', 'tcp'], rtpPort: 18000, rtcpPort: 18001 });
    assert.deepEqual(udp.rtspTransports, ['udp', 'tcp']);
    assert.equal(udp.rtpAddress, ':18000');
    assert.equal(udp.rtcpAddress, ':18001');
    const defaults = parsed({ rtspTransports: ['udp'], listenHost: '10.0.0.2' });
    assert.equal(defaults.rtpAddress, '10.0.0.2:8000');
    assert.equal(defaults.rtcpAddress, '10.0.0.2:8001');
  });

  it('quotes every string, so MediaMTX cannot read a password as a boolean or a number', () => {
    for (const password of ['yes', 'off', '1e10', '0x1F', 'null', '#not-a-comment', '-_-']) {
      const text = mediamtxConfig({ ...OPTIONS, apiPassword: password });
      assert.ok(text.includes(`pass: "${password}"`), text);
      const users = (parse(text) as Doc).authInternalUsers as Doc[];
      assert.equal(users[2]?.pass, password);
    }
    assert.match(mediamtxConfig(OPTIONS), /^logLevel: "info"$/m);
  });

  it('writes no YAML anchors or aliases, even for repeated values', () => {
    const text = mediamtxConfig({ ...OPTIONS, rtspTransports: ['udp', 'tcp'] });
    assert.doesNotMatch(text, /[&*][a-z]+\d*\s*$/m);
    assert.equal(text.split('"::1"').length - 1, 2, 'the loopback list is written out twice');
  });

  it('refuses options MediaMTX would refuse, saying what to fix', () => {
    const cases: Array<[Partial<MediaMtxConfigOptions>, RegExp]> = [
      [{ apiPort: 0 }, /the API port is 0; it must be a whole number from 1 to 65535/],
      [{ hlsPort: 70000 }, /the HLS port is 70000/],
      [{ webrtcPort: 8554 }, /the RTSP port and the WebRTC port are both 8554; they must differ/],
      [
        { rtspTransports: ['udp'], rtpPort: 8188, rtcpPort: 8189 },
        /the RTCP port and the WebRTC ICE UDP port are both 8189; they must differ/,
      ],
      [{ webrtcIceUdpPort: 0 }, /the WebRTC ICE UDP port is 0/],
      [{ rtspTransports: [] }, /no RTSP transport is enabled/],
      [{ rtspTransports: ['tcp', 'tcp'] }, /name one twice/],
      [{ rtspTransports: ['udp'], rtpPort: 8001 }, /RTSP over UDP needs an even one/],
      [
        { rtspTransports: ['udp'], rtpPort: 8000, rtcpPort: 8003 },
        /the RTCP port is 8003; it must be the RTP port plus one \(8001\)/,
      ],
      [{ apiUser: 'any' }, /the API user cannot be "any"/],
      [{ apiPassword: '' }, /the API password is empty/],
      [
        { apiPassword: 'has space' },
        /the API password contains characters MediaMTX does not accept/,
      ],
      [{ apiPassword: 'quote"' }, /the API password contains characters/],
      [{ listenHost: '1.2.3.4 # x' }, /is not an IP address or host name/],
    ];
    for (const [options, message] of cases) {
      assert.throws(
        () => mediamtxConfig({ ...OPTIONS, ...options }),
        (error: Error) => {
          assert.match(error.message, /^cannot write the MediaMTX configuration: /);
          assert.match(error.message, message);
          return true;
        },
        JSON.stringify(options),
      );
    }
  });

  it('writes only keys that exist in every MediaMTX from v1.15 to v1.20', (t) => {
    if (REFERENCE.missing) {
      t.skip(`MediaMTX's reference configuration: ${REFERENCE.missing}`);
      return;
    }
    const reference = parse(readFileSync(REFERENCE.file, 'utf8')) as Doc;
    const doc = parsed({ rtspTransports: ['udp', 'tcp'] });
    const hooked = parsed({
      authHttpAddress: 'http://127.0.0.1:1/mediamtx/auth',
      readTimeout: '10s',
      writeTimeout: '10s',
    });
    const specific = parsed({ listenHost: '10.0.0.2' });
    const keys = new Set([...Object.keys(doc), ...Object.keys(hooked), ...Object.keys(specific)]);
    for (const key of keys) {
      assert.ok(key in reference, `${key} is not a setting of MediaMTX v1.20`);
      assert.ok(OLDER_KEYS.has(key), `${key} is not a setting of MediaMTX before v1.15`);
    }
    // The keys inside the user entries, too.
    const referenceUsers = reference.authInternalUsers as Doc[];
    const userKeys = new Set(referenceUsers.flatMap((u) => Object.keys(u)));
    const permissionKeys = new Set(
      referenceUsers.flatMap((u) => (u.permissions as Doc[]).flatMap((p) => Object.keys(p))),
    );
    for (const user of doc.authInternalUsers as Doc[]) {
      for (const key of Object.keys(user)) assert.ok(userKeys.has(key), `user key ${key}`);
      for (const permission of user.permissions as Doc[]) {
        for (const key of Object.keys(permission)) {
          assert.ok(permissionKeys.has(key), `permission key ${key}`);
        }
      }
    }
  });
});

describe('writeMediaMtxConfig', () => {
  it('writes the file with mode 0600 and leaves no temporary file', () => {
    const dir = join(tempDir(), 'state'); // created on demand
    const file = join(dir, 'mediamtx.yml');
    const text = mediamtxConfig(OPTIONS);
    writeMediaMtxConfig(file, text);
    assert.equal(readFileSync(file, 'utf8'), text);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['mediamtx.yml']);
  });

  it('replaces an existing file, whatever its mode was', () => {
    const dir = tempDir();
    const file = join(dir, 'mediamtx.yml');
    writeFileSync(file, 'old: true\n', { mode: 0o644 });
    writeMediaMtxConfig(file, 'new: true\n');
    assert.equal(readFileSync(file, 'utf8'), 'new: true\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['mediamtx.yml']);
  });

  it('leaves no temporary file when the rename fails', () => {
    const dir = tempDir();
    const file = join(dir, 'mediamtx.yml');
    // A directory in the way: the rename fails after the temporary file was written.
    writeFileSync(join(dir, 'keep'), '');
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'inner'), { recursive: true });
    assert.throws(
      () => writeMediaMtxConfig(blocked, 'x: 1\n'),
      /^Error: could not write the MediaMTX configuration .*blocked: /,
    );
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'keep']);
    assert.equal(existsSync(file), false);
  });
});
