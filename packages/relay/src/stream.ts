/**
 * One published stream: its description, and the fan-out of the publisher's packets to
 * every reader. Keeps the packets since the last H.264 keyframe (the GOP cache) so a new
 * reader can start decoding at once instead of waiting for the next keyframe.
 */
import { h264ParameterSets, parseSdp, rtpMap, setAttribute, writeSdp, type Sdp } from './sdp.js';
import { parseRtpHeader, startsKeyframe } from './rtp.js';

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
  #bytesReceived = 0;
  #bytesSent = 0;
  #packetsReceived = 0;
  #packetsSent = 0;
  #readersDropped = 0;
  #closed = false;
  #keyframeSeen!: () => void;
  /** Resolves when the first keyframe has been cached: from then on readers start at once. */
  readonly firstKeyframe = new Promise<void>((resolve) => (this.#keyframeSeen = resolve));

  constructor(publisherSdp: string) {
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
    this.sdp = {
      session: setAttribute(sdp.session, 'control', '*'),
      media: sdp.media.map((media, index) => ({
        ...media,
        lines: setAttribute(media.lines, 'control', `trackID=${index}`),
      })),
    };
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
    // A GOP starts at the first packet of an access unit holding an IDR or its SPS; the
    // packets after it with the same timestamp (PPS, the IDR slices) belong to it.
    if (startsKeyframe(packet) && header.timestamp !== this.#gopTimestamp) {
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopTimestamp = header.timestamp;
      this.#gopValid = true;
      this.#keyframeSeen();
    }
    if (this.#gopValid) this.#push(track, packet);
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
