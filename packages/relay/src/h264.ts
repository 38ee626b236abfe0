/**
 * H.264 over RTP (RFC 6184) back to an Annex B byte stream (start code, NAL unit, ...),
 * the form `ffmpeg -f h264 -i pipe:0` decodes: single NAL unit packets as they are,
 * STAP-A aggregates split into their NAL units, FU-A fragments joined into the NAL unit
 * they carry. Pure, and tolerant: a fragment run missing its start, or a malformed
 * aggregate, is skipped rather than turned into garbage for the decoder.
 */
import { NAL_PPS, NAL_SPS, parseRtpHeader } from './rtp.js';

const START_CODE = Buffer.from([0, 0, 0, 1]);
const STAP_A = 24;
const FU_A = 28;

/** The NAL units in one RTP payload; `fragment` carries an FU-A run across packets. */
function nalUnits(payload: Buffer, fragment: { parts: Buffer[] | null }): Buffer[] {
  if (payload.length === 0) return [];
  const type = (payload[0] as number) & 0x1f;
  if (type >= 1 && type <= 23) {
    fragment.parts = null;
    return [payload];
  }
  if (type === STAP_A) {
    fragment.parts = null;
    const units: Buffer[] = [];
    let offset = 1;
    while (offset + 2 <= payload.length) {
      const size = payload.readUInt16BE(offset);
      if (size === 0 || offset + 2 + size > payload.length) break;
      units.push(payload.subarray(offset + 2, offset + 2 + size));
      offset += 2 + size;
    }
    return units;
  }
  if (type === FU_A && payload.length >= 2) {
    const header = payload[1] as number;
    const start = (header & 0x80) !== 0;
    const end = (header & 0x40) !== 0;
    if (start) {
      // The NAL header: forbidden bit and NRI from the indicator, the type from the FU header.
      const nalHeader = Buffer.from([((payload[0] as number) & 0xe0) | (header & 0x1f)]);
      fragment.parts = [nalHeader, payload.subarray(2)];
    } else if (fragment.parts) {
      fragment.parts.push(payload.subarray(2));
    }
    if (end && fragment.parts) {
      const unit = Buffer.concat(fragment.parts);
      fragment.parts = null;
      return [unit];
    }
    return [];
  }
  // STAP-B, MTAP, FU-B and reserved types: not produced by the encoders we read.
  fragment.parts = null;
  return [];
}

/**
 * The Annex B stream of a run of RTP packets (in order, one H.264 track). The parameter
 * sets from the SDP (`sprop-parameter-sets`) go first when the packets carry none, so the
 * result decodes on its own.
 */
export function h264AnnexB(
  packets: readonly Buffer[],
  parameterSets: readonly Buffer[] = [],
): Buffer {
  const units: Buffer[] = [];
  const fragment: { parts: Buffer[] | null } = { parts: null };
  let lastSequence: number | null = null;
  for (const packet of packets) {
    const header = parseRtpHeader(packet);
    if (!header) continue;
    // A lost packet breaks the fragment run it was part of.
    if (lastSequence !== null && header.sequence !== ((lastSequence + 1) & 0xffff)) {
      fragment.parts = null;
    }
    lastSequence = header.sequence;
    const payload = packet.subarray(
      header.payloadOffset,
      header.payloadOffset + header.payloadLength,
    );
    units.push(...nalUnits(payload, fragment));
  }
  const hasParameterSets = units.some((unit) => {
    const type = (unit[0] as number) & 0x1f;
    return type === NAL_SPS || type === NAL_PPS;
  });
  const all = hasParameterSets ? units : [...parameterSets, ...units];
  return Buffer.concat(all.flatMap((unit) => [START_CODE, unit]));
}
