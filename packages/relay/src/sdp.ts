/**
 * SDP (RFC 8866), as far as an RTSP relay needs it: sessions and media sections with
 * their attributes kept in order, so a description can be parsed, adjusted (controls)
 * and written back. Pure.
 */

export interface SdpMedia {
  /** The m= line's fields: type (video, audio...), port, protocol, formats. */
  type: string;
  port: string;
  protocol: string;
  formats: string[];
  /** Every other line of the section, in order, as [type, value] (e.g. ['a', 'rtpmap:96 H264/90000']). */
  lines: [string, string][];
}

export interface Sdp {
  /** Session-level lines in order, as [type, value]. */
  session: [string, string][];
  media: SdpMedia[];
}

export class SdpError extends Error {}

export function parseSdp(text: string): Sdp {
  const sdp: Sdp = { session: [], media: [] };
  let current: SdpMedia | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line === '') continue;
    if (!/^[a-z]=/.test(line)) throw new SdpError(`bad SDP line "${line.slice(0, 80)}"`);
    const type = line[0] as string;
    const value = line.slice(2);
    if (type === 'm') {
      const [mediaType, port, protocol, ...formats] = value.split(' ');
      if (!mediaType || !port || !protocol)
        throw new SdpError(`bad m= line "${value.slice(0, 80)}"`);
      current = { type: mediaType, port, protocol, formats, lines: [] };
      sdp.media.push(current);
    } else if (current) {
      current.lines.push([type, value]);
    } else {
      sdp.session.push([type, value]);
    }
  }
  if (!sdp.session.some(([t]) => t === 'v')) throw new SdpError('the SDP has no v= line');
  return sdp;
}

export function writeSdp(sdp: Sdp): string {
  const out = sdp.session.map(([t, v]) => `${t}=${v}`);
  for (const m of sdp.media) {
    out.push(`m=${[m.type, m.port, m.protocol, ...m.formats].join(' ')}`);
    for (const [t, v] of m.lines) out.push(`${t}=${v}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** The value of the first `a=<name>:value` (or flag `a=<name>`) in a list of lines. */
export function attribute(lines: readonly [string, string][], name: string): string | undefined {
  for (const [t, v] of lines) {
    if (t !== 'a') continue;
    if (v === name) return '';
    if (v.startsWith(`${name}:`)) return v.slice(name.length + 1);
  }
  return undefined;
}

/** Replaces (or adds) `a=<name>:value`. */
export function setAttribute(
  lines: [string, string][],
  name: string,
  value: string,
): [string, string][] {
  const kept = lines.filter(([t, v]) => !(t === 'a' && (v === name || v.startsWith(`${name}:`))));
  return [...kept, ['a', `${name}:${value}`]];
}

export interface RtpMap {
  payloadType: number;
  encoding: string;
  clockRate: number;
}

export function rtpMap(media: SdpMedia): RtpMap | undefined {
  const value = attribute(media.lines, 'rtpmap');
  const match = value ? /^(\d+) ([^/]+)\/(\d+)/.exec(value) : null;
  if (!match) return undefined;
  return {
    payloadType: Number(match[1]),
    encoding: match[2] as string,
    clockRate: Number(match[3]),
  };
}

/** fmtp parameters (`a=fmtp:96 packetization-mode=1; sprop-parameter-sets=...`), names lower-cased. */
export function fmtp(media: SdpMedia): Map<string, string> {
  const params = new Map<string, string>();
  const value = attribute(media.lines, 'fmtp');
  if (!value) return params;
  const space = value.indexOf(' ');
  for (const part of value.slice(space + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return params;
}

/** The H.264 SPS and PPS a section carries in sprop-parameter-sets, decoded. */
export function h264ParameterSets(media: SdpMedia): Buffer[] {
  const sets = fmtp(media).get('sprop-parameter-sets');
  if (!sets) return [];
  return sets
    .split(',')
    .map((s) => Buffer.from(s, 'base64'))
    .filter((b) => b.length > 0);
}
