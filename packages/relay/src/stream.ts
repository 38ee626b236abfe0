/**
 * One published stream: its description, and the fan-out of the publisher's packets to
 * every reader. Keeps the packets since the last H.264 keyframe (the GOP cache) so a new
 * reader can start decoding at once instead of waiting for the next keyframe.
 *
 * Without the GOP cache (`gopCache: false`) a new reader is given what MediaMTX gives an
 * RTSP reader (gortsplib's ServerStream): every packet written after it started playing,
 * from whatever packet comes next, keyframe or not; nothing from before.
 */
import { h264ParameterSets, parseSdp, rtpMap, setAttribute, writeSdp, type Sdp } from './sdp.js';
import { NAL_IDR, NAL_PPS, NAL_SPS, h264NalTypes, parseRtpHeader } from './rtp.js';

export interface StreamTrack {
  /** The publisher's control for this track (what its SETUP names). */
  publisherControl: string;
  /** The control readers see, `trackID=<index>` as MediaMTX gives. */
  control: string;
  codec: string;
  isH264: boolean;
}

/** Something receiving the stream's packets: an RTSP reader, a recorder... */
export interface StreamReader {
  /** Identifies the reader in the API (its RTSP session). */
  readonly id: string;
  /**
   * Delivers one RTP (or RTCP) packet of a track; the buffer must not be changed.
   * Returns whether the packet was sent (false: not set up for the track, not playing,
   * or dropped for being too slow).
   */
  deliver(track: number, rtcp: boolean, packet: Buffer): boolean;
  /** The stream ended (publisher gone); the reader should close. */
  close(reason: string): void;
}

export interface StreamOptions {
  /** Replay the packets since the last keyframe to a new reader (default true). */
  gopCache?: boolean;
}

export interface StreamStats {
  bytesReceived: number;
  bytesSent: number;
  /** RTP and RTCP packets from the publisher. */
  packetsReceived: number;
  /** RTP and RTCP packets handed to readers (GOP cache replays included). */
  packetsSent: number;
  readers: number;
  /** Readers dropped because they could not keep up. */
  readersDropped: number;
}

/** Bounds on the GOP cache: past these the cache is dropped until the next keyframe. */
const GOP_MAX_PACKETS = 4096;
const GOP_MAX_BYTES = 8 * 1024 * 1024;

export class Stream {
  readonly sdp: Sdp;
  readonly tracks: StreamTrack[];
  readonly createdAt = new Date();
  readonly #readers = new Set<StreamReader>();
  #gop: { track: number; packet: Buffer }[] = [];
  #gopBytes = 0;
  #gopTimestamp: number | null = null;
  #gopValid = false;
  /** The GOP so far holds only H.264 parameter sets: the IDR they announce is still to come. */
  #gopOnlyParameterSets = false;
  /** Per H.264 track: the last run of in-band SPS/PPS packets, and whether the last packet was one. */
  readonly #parameterSets = new Map<number, { packets: Buffer[]; open: boolean }>();
  #bytesReceived = 0;
  #bytesSent = 0;
  #packetsReceived = 0;
  #packetsSent = 0;
  #readersDropped = 0;
  #closed = false;
  #keyframeSeen!: () => void;
  readonly #hasH264: boolean;
  /**
   * Resolves when the first keyframe has arrived (with the GOP cache, from then on readers
   * start at once), or with the first packet of a stream without H.264.
   */
  readonly firstKeyframe = new Promise<void>((resolve) => (this.#keyframeSeen = resolve));
  readonly gopCache: boolean;
  #begin!: () => void;
  /**
   * Resolves when the publisher starts sending (its RECORD was answered, or a pulled
   * source's PLAY): when MediaMTX makes a path ready.
   */
  readonly begun = new Promise<void>((resolve) => (this.#begin = resolve));

  constructor(publisherSdp: string, options: StreamOptions = {}) {
    this.gopCache = options.gopCache ?? true;
    const sdp = parseSdp(publisherSdp);
    this.tracks = sdp.media.map((media, index) => {
      const control = media.lines.find(([t, v]) => t === 'a' && v.startsWith('control:'));
      const codec = rtpMap(media)?.encoding ?? media.formats[0] ?? 'unknown';
      return {
        publisherControl: control ? control[1].slice('control:'.length) : `trackID=${index}`,
        control: `trackID=${index}`,
        codec,
        isH264: codec.toUpperCase() === 'H264',
      };
    });
    this.#hasH264 = this.tracks.some((t) => t.isH264);
    this.sdp = {
      session: setAttribute(sdp.session, 'control', '*'),
      media: sdp.media.map((media, index) => ({
        ...media,
        lines: setAttribute(media.lines, 'control', `trackID=${index}`),
      })),
    };
  }

  /** The publisher has started sending (see `begun`). */
  begin(): void {
    this.#begin();
  }

  /** The description readers get from DESCRIBE. */
  describe(): string {
    return writeSdp(this.sdp);
  }

  /** The H.264 parameter sets announced for a track (SPS, PPS), if any. */
  parameterSets(track: number): Buffer[] {
    const media = this.sdp.media[track];
    return media ? h264ParameterSets(media) : [];
  }

  /** Ids of the readers attached now. */
  readerIds(): string[] {
    return [...this.#readers].map((r) => r.id);
  }

  /** Bytes in the GOP cache: what a new reader is sent at once. */
  get gopBytes(): number {
    return this.#gopValid ? this.#gopBytes : 0;
  }

  get readerCount(): number {
    return this.#readers.size;
  }

  stats(): StreamStats {
    return {
      bytesReceived: this.#bytesReceived,
      bytesSent: this.#bytesSent,
      packetsReceived: this.#packetsReceived,
      packetsSent: this.#packetsSent,
      readers: this.#readers.size,
      readersDropped: this.#readersDropped,
    };
  }

  /** A packet from the publisher: cached when it belongs to the current GOP, and fanned out. */
  write(track: number, rtcp: boolean, packet: Buffer): void {
    if (this.#closed) return;
    this.#bytesReceived += packet.length;
    this.#packetsReceived += 1;
    if (!rtcp && this.tracks[track]?.isH264) this.#cache(track, packet);
    else if (!rtcp && this.#gopValid) this.#push(track, packet);
    // Without H.264 there is no keyframe to wait for: ready with the first packet.
    else if (!rtcp && !this.#hasH264) this.#keyframeSeen();
    for (const reader of this.#readers) {
      if (reader.deliver(track, rtcp, packet)) this.#countSent(packet);
    }
  }

  /** Adds a reader; with `fastStart`, the cached GOP is delivered to it first. */
  addReader(reader: StreamReader, options: { fastStart: boolean }): void {
    if (this.#closed) {
      reader.close('the stream has ended');
      return;
    }
    if (options.fastStart && this.#gopValid) {
      for (const { track, packet } of this.#gop) {
        if (reader.deliver(track, false, packet)) this.#countSent(packet);
      }
    }
    this.#readers.add(reader);
  }

  #countSent(packet: Buffer): void {
    this.#bytesSent += packet.length;
    this.#packetsSent += 1;
  }

  removeReader(reader: StreamReader, dropped = false): void {
    if (this.#readers.delete(reader) && dropped) this.#readersDropped += 1;
  }

  /** The publisher left: every reader is closed. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#gop = [];
    for (const reader of [...this.#readers]) reader.close(reason);
    this.#readers.clear();
  }

  #cache(track: number, packet: Buffer): void {
    const header = parseRtpHeader(packet);
    if (!header) return;
    const types = h264NalTypes(
      packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength),
    );
    // A GOP starts at the first packet of an access unit holding an IDR or its SPS; the
    // packets after it with the same timestamp (PPS, the IDR slices) belong to it, and so
    // does an IDR after parameter sets that a publisher stamped with another timestamp.
    const keyframe = types.some((t) => t === NAL_IDR || t === NAL_SPS);
    if (!this.gopCache) {
      if (keyframe) this.#keyframeSeen();
      return;
    }
    const isParameterSets = types.length > 0 && types.every((t) => t === NAL_SPS || t === NAL_PPS);
    this.#rememberParameterSets(track, packet, isParameterSets);
    if (keyframe && header.timestamp !== this.#gopTimestamp && !this.#gopOnlyParameterSets) {
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopTimestamp = header.timestamp;
      this.#gopValid = true;
      this.#gopOnlyParameterSets = isParameterSets;
      // An IDR without its parameter sets in front, on a track whose SDP does not carry
      // them either: the ones the publisher sent in-band before go first, or a new reader
      // could not decode it.
      if (!types.includes(NAL_SPS) && this.parameterSets(track).length === 0) {
        for (const previous of this.#parameterSets.get(track)?.packets ?? []) {
          if (previous !== packet) this.#push(track, previous);
        }
      }
      this.#keyframeSeen();
    } else if (!isParameterSets) {
      this.#gopOnlyParameterSets = false;
    }
    if (this.#gopValid) this.#push(track, packet);
  }

  /** Keeps the latest run of consecutive SPS/PPS packets of a track. */
  #rememberParameterSets(track: number, packet: Buffer, isParameterSets: boolean): void {
    let kept = this.#parameterSets.get(track);
    if (!isParameterSets) {
      if (kept) kept.open = false;
      return;
    }
    if (!kept) {
      kept = { packets: [], open: false };
      this.#parameterSets.set(track, kept);
    }
    if (!kept.open) kept.packets = [];
    // Bounded: a publisher sending nothing but parameter sets keeps only the last few.
    if (kept.packets.length >= 8) kept.packets.shift();
    kept.packets.push(packet);
    kept.open = true;
  }

  #push(track: number, packet: Buffer): void {
    this.#gop.push({ track, packet });
    this.#gopBytes += packet.length;
    if (this.#gop.length > GOP_MAX_PACKETS || this.#gopBytes > GOP_MAX_BYTES) {
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopValid = false;
      this.#gopTimestamp = null;
    }
  }
}
