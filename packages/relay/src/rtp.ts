/**
 * RTP packet header fields and H.264 payload inspection (RFC 3550, RFC 6184), enough to
 * find where a GOP starts. Pure; reads from the packet without copying it.
 */

export interface RtpHeader {
  version: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload in the packet. */
  payloadOffset: number;
  /** Payload length, padding excluded. */
  payloadLength: number;
}

export function parseRtpHeader(packet: Buffer): RtpHeader | null {
  if (packet.length < 12) return null;
  const b0 = packet[0] as number;
  const version = b0 >> 6;
  if (version !== 2) return null;
  const csrcCount = b0 & 0x0f;
  let offset = 12 + csrcCount * 4;
  if (b0 & 0x10) {
    if (packet.length < offset + 4) return null;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (b0 & 0x20) end -= packet[packet.length - 1] as number;
  if (offset > end) return null;
  const b1 = packet[1] as number;
  return {
    version,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payloadOffset: offset,
    payloadLength: end - offset,
  };
}

export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
const STAP_A = 24;
const FU_A = 28;

/**
 * The H.264 NAL unit types a packet's payload starts (single NAL, every NAL of a STAP-A,
 * or the type of an FU-A's first fragment). Continuation fragments start nothing.
 */
export function h264NalTypes(payload: Buffer): number[] {
  if (payload.length === 0) return [];
  const type = (payload[0] as number) & 0x1f;
  if (type >= 1 && type <= 23) return [type];
  if (type === STAP_A) {
    const types: number[] = [];
    let offset = 1;
    while (offset + 2 < payload.length) {
      const size = payload.readUInt16BE(offset);
      if (size === 0 || offset + 2 + size > payload.length) break;
      types.push((payload[offset + 2] as number) & 0x1f);
      offset += 2 + size;
    }
    return types;
  }
  if (type === FU_A && payload.length >= 2) {
    const header = payload[1] as number;
    return header & 0x80 ? [header & 0x1f] : [];
  }
  return [];
}

/** Whether an RTP packet carrying H.264 begins (part of) an IDR picture or its parameter sets. */
export function startsKeyframe(packet: Buffer): boolean {
  const header = parseRtpHeader(packet);
  if (!header) return false;
  const types = h264NalTypes(
    packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength),
  );
  return types.some((t) => t === NAL_IDR || t === NAL_SPS);
}
