/**
 * A streaming parser of fragmented MP4 as ffmpeg writes it to a pipe
 * (`-movflags empty_moov+default_base_moof+frag_every_frame`): top-level boxes are cut
 * out as they complete, `ftyp`+`moov` make the init segment, and each `moof` with the
 * `mdat` after it makes a media segment, marked when its first sample is a sync sample
 * (a keyframe: where a new viewer may start). Box sizes are bounded, so a stream that
 * goes wrong cannot make it buffer without end.
 */

export interface Fragment {
  data: Buffer;
  keyframe: boolean;
}

export interface Fmp4Events {
  init(init: Buffer, codec: string | null): void;
  fragment(fragment: Fragment): void;
}

/** The largest box accepted: far above a 320x240 to 4K keyframe at sane bitrates. */
const MAX_BOX = 16 * 1024 * 1024;

export class Fmp4Parser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #ftyp: Buffer | null = null;
  #moof: Buffer | null = null;
  /** The track's default sample flags (trex, in moov's mvex), for fragments that give none. */
  #trexFlags = 0;
  #failed: string | null = null;

  constructor(readonly events: Fmp4Events) {}

  /** Why parsing stopped (a box out of bounds), or null. */
  get failed(): string | null {
    return this.#failed;
  }

  push(chunk: Buffer): void {
    if (this.#failed) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    // Joined only once a whole box is there: a large box arriving in many chunks is
    // copied once, not once per chunk.
    const needed = this.#needed();
    if (needed === null || this.#pendingBytes < needed) return;
    const buffer = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending);
    let offset = 0;
    while (buffer.length - offset >= 8) {
      const head = boxHead(buffer, offset);
      if (head === null) break;
      if (head === 'bad') return this.#fail(buffer.readUInt32BE(offset));
      const { size, header } = head;
      if (buffer.length - offset < size) break;
      const type = buffer.toString('latin1', offset + 4, offset + 8);
      this.#box(type, buffer.subarray(offset, offset + size), header);
      offset += size;
    }
    const rest = buffer.subarray(offset);
    // A copy, so the chunk it came from is not held for a few bytes of it.
    this.#pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.#pendingBytes = rest.length;
  }

  /** The size of the first pending box, when its header is there (null: not yet). */
  #needed(): number | null {
    if (this.#pendingBytes < 8) return null;
    let first = this.#pending[0]!;
    if (first.length < 16 && this.#pending.length > 1) {
      first = Buffer.concat(this.#pending);
      this.#pending = [first];
    }
    const head = boxHead(first, 0);
    if (head === null) return null;
    if (head === 'bad') {
      this.#fail(first.readUInt32BE(0));
      return null;
    }
    return head.size;
  }

  #fail(size: number): void {
    this.#failed = `an MP4 box of ${size} bytes is out of bounds`;
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  #box(type: string, box: Buffer, header: number): void {
    switch (type) {
      case 'ftyp':
        this.#ftyp = Buffer.from(box);
        return;
      case 'moov': {
        this.#trexFlags = trexDefaultFlags(box.subarray(header));
        const init = Buffer.concat([this.#ftyp ?? Buffer.alloc(0), box]);
        this.events.init(init, avcCodec(box));
        return;
      }
      case 'moof':
        this.#moof = Buffer.from(box);
        return;
      case 'mdat': {
        const moof = this.#moof;
        this.#moof = null;
        if (!moof) return;
        this.events.fragment({
          data: Buffer.concat([moof, box]),
          keyframe: firstSampleIsSync(moof, this.#trexFlags),
        });
        return;
      }
      default:
        // styp, sidx, free, mfra...: nothing a live viewer needs.
        return;
    }
  }
}

/** A box's size and header length at `offset`; null: not all of the header is there. */
function boxHead(buffer: Buffer, offset: number): { size: number; header: number } | null | 'bad' {
  if (buffer.length - offset < 8) return null;
  let size = buffer.readUInt32BE(offset);
  let header = 8;
  if (size === 1) {
    if (buffer.length - offset < 16) return null;
    const large = buffer.readBigUInt64BE(offset + 8);
    size = large > BigInt(MAX_BOX) ? MAX_BOX + 1 : Number(large);
    header = 16;
  }
  return size < header || size > MAX_BOX ? 'bad' : { size, header };
}

/** The children of a box's payload, as [type, payload] pairs. */
function* children(payload: Buffer): Generator<[string, Buffer]> {
  let offset = 0;
  while (payload.length - offset >= 8) {
    const size = payload.readUInt32BE(offset);
    if (size < 8 || offset + size > payload.length) return;
    yield [
      payload.toString('latin1', offset + 4, offset + 8),
      payload.subarray(offset + 8, offset + size),
    ];
    offset += size;
  }
}

function child(payload: Buffer, type: string): Buffer | null {
  for (const [t, p] of children(payload)) if (t === type) return p;
  return null;
}

function trexDefaultFlags(moov: Buffer): number {
  const mvex = child(moov, 'mvex');
  const trex = mvex && child(mvex, 'trex');
  // version/flags(4) track_ID(4) description_index(4) duration(4) size(4) flags(4)
  return trex && trex.length >= 24 ? trex.readUInt32BE(20) : 0;
}

/** Whether the first sample of the fragment's first track run is a sync sample. */
export function firstSampleIsSync(moof: Buffer, trexFlags = 0): boolean {
  const traf = child(moof.subarray(8), 'traf');
  if (!traf) return false;
  let flags = trexFlags;
  const tfhd = child(traf, 'tfhd');
  if (tfhd && tfhd.length >= 8) {
    const tf = tfhd.readUInt32BE(0) & 0xffffff;
    let at = 8; // version/flags, track_ID
    if (tf & 0x01) at += 8; // base_data_offset
    if (tf & 0x02) at += 4; // sample_description_index
    if (tf & 0x08) at += 4; // default_sample_duration
    if (tf & 0x10) at += 4; // default_sample_size
    if (tf & 0x20 && tfhd.length >= at + 4) flags = tfhd.readUInt32BE(at);
  }
  const trun = child(traf, 'trun');
  if (trun && trun.length >= 8) {
    const tr = trun.readUInt32BE(0) & 0xffffff;
    let at = 8; // version/flags, sample_count
    if (tr & 0x01) at += 4; // data_offset
    if (tr & 0x04 && trun.length >= at + 4) {
      flags = trun.readUInt32BE(at); // first_sample_flags
    } else if (tr & 0x400) {
      at += tr & 0x04 ? 4 : 0;
      if (tr & 0x100) at += 4; // sample_duration
      if (tr & 0x200) at += 4; // sample_size
      if (trun.length >= at + 4) flags = trun.readUInt32BE(at);
    }
  }
  // sample_is_non_sync_sample is bit 16.
  return ((flags >>> 16) & 1) === 0;
}

/** `avc1.PPCCLL` from the avcC box of an H.264 track (profile, constraints, level). */
export function avcCodec(moov: Buffer): string | null {
  const at = moov.indexOf('avcC', 0, 'latin1');
  if (at < 0 || moov.length < at + 8) return null;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  const p = at + 4;
  return `avc1.${hex(moov[p + 1]!)}${hex(moov[p + 2]!)}${hex(moov[p + 3]!)}`;
}
