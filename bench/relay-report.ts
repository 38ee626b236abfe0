/**
 * The printed "relay fan-out" section, a pure function of the data written to
 * .bench/relay.json, so the two never disagree.
 */
import {
  DISTURBED_CPU_PERCENT,
  fmtInt,
  fmtMb,
  fmtMbit,
  fmtMs,
  fmtPercent,
  fmtUs,
  formatColumns,
} from './format.js';
import type { ClipInfo } from './relay-process.js';
import type { RelayLoadResult, RelayServerStats } from './relay-protocol.js';

export interface RelaySettings {
  publishers: number;
  readersPerPath: number;
  seconds: number;
  warmupSeconds: number;
  firstFrameSamples: number;
}

/** The "relay fan-out" section: the embedded RTSP relay under N publishers x M readers. */
export interface RelayReport {
  settings: RelaySettings;
  clip: ClipInfo | null;
  /** What the readers measured; null when the run failed before or during them. */
  load: RelayLoadResult | null;
  relay: {
    /** Highest RSS sampled while the readers ran. */
    peakRssMb: number | null;
    /** With the publishers only, before the readers came. */
    rssBeforeMb: number | null;
    rssAfterMb: number | null;
    hwmAfterMb: number | null;
    /** RTP+RTCP packets a second into and out of the relay over the window (Stream.stats()). */
    packetsPerSecond: { in: number; out: number } | null;
    /** Its last stats line, printed as it stopped: readersDropped over the whole run. */
    final: RelayServerStats | null;
  };
  /** Things that went wrong without stopping the run. */
  problems: string[];
  /** Why the section could not run, if it could not. */
  error: string | null;
}

/** The "relay fan-out" section. */
export function formatRelay(relay: RelayReport): string[] {
  const { settings, clip, load } = relay;
  const readers = settings.publishers * settings.readersPerPath;
  const lines = [
    'relay fan-out',
    '-------------',
    `${settings.publishers} publishers x ${settings.readersPerPath} readers each = ${readers} readers, ` +
      `RTSP over TCP (interleaved) on 127.0.0.1; ${settings.seconds} s window after ` +
      `${settings.warmupSeconds} s warm-up.`,
  ];
  if (clip) {
    const measured =
      clip.measuredBitsPerSecond === null ? 'n/a' : (clip.measuredBitsPerSecond / 1e6).toFixed(2);
    lines.push(
      `Each publisher: ffmpeg -re -stream_loop -1 -c copy of one ${clip.seconds} s clip ` +
        `(testsrc2 ${clip.width}x${clip.height} ${clip.fps} fps, x264 ultrafast, GOP ${clip.gop}, ` +
        `-b:v ${clip.bitrate}; file ${measured} Mbit/s).`,
    );
  }
  if (relay.error !== null) {
    lines.push(`  FAILED: ${relay.error}`);
  }
  if (load) {
    const seconds = load.windowMs / 1000;
    const apiSeconds = load.api.windowMs / 1000;
    const w = load.window;
    const outBits = ((w.rtpBytes + w.rtcpBytes) * 8) / seconds;
    const outPackets = (w.rtpPackets + w.rtcpPackets) / seconds;
    const apiIn = (load.api.bytesReceived * 8) / apiSeconds;
    const apiOut = (load.api.bytesSent * 8) / apiSeconds;
    const packets = relay.relay.packetsPerSecond;
    // "Other" is everything but the relay and the readers; the publishers are part of it.
    const rest =
      load.otherCpuPercent === null
        ? null
        : Math.max(0, load.otherCpuPercent - (load.publishersCpuPercent ?? 0));
    lines.push(
      '',
      formatColumns(
        ['counted by', 'in Mbit/s', 'in packets/s', 'out Mbit/s', 'out packets/s'],
        [
          ['the readers (delivered)', '', '', fmtMbit(outBits), fmtInt(outPackets)],
          [
            'the relay (its stream counters)',
            fmtMbit(apiIn),
            packets === null ? 'n/a' : fmtInt(packets.in),
            fmtMbit(apiOut),
            packets === null ? 'n/a' : fmtInt(packets.out),
          ],
        ],
        0,
      ),
      `Bytes are RTP/RTCP packets without the 4-byte interleaved header. Fan-out out/in: ` +
        `${apiIn > 0 ? (apiOut / apiIn).toFixed(2) : 'n/a'}x by the relay's counters, ` +
        `${apiIn > 0 ? (outBits / apiIn).toFixed(2) : 'n/a'}x delivered (expected ${settings.readersPerPath}).`,
      `Per reader over the window: ${load.readerMbitPerSecond.min.toFixed(2)} to ` +
        `${load.readerMbitPerSecond.max.toFixed(2)} Mbit/s. ${load.readers} readers opened; ` +
        `the API listed ${load.api.readers} readers on ${load.api.readyPaths} ready paths at the end of the window.`,
      `Sequence gaps (RTP, per reader): ${w.gaps} gaps, ${fmtInt(w.lost)} packets lost, ` +
        `${w.late} late/duplicate in the window; over each reader's whole life ${load.whole.gaps} gaps, ` +
        `${fmtInt(load.whole.lost)} lost, ${load.whole.late} late/duplicate` +
        `${load.whole.malformed > 0 ? `, ${load.whole.malformed} not RTP` : ''}.`,
      `Readers dropped by the relay as too slow (Stream.stats().readersDropped, whole run): ` +
        `${relay.relay.final?.readersDropped ?? 'n/a'}; reader connections that ended before the ` +
        `loadgen closed them: ${load.readersClosedByRelay}.`,
      `Relay CPU ${fmtPercent(load.relayCpuPercent)}% of one core over the window` +
        (load.relayCpuSeconds !== null && outPackets > 0
          ? ` (${fmtUs((load.relayCpuSeconds * 1e6) / (outPackets * seconds))} µs per packet out)`
          : '') +
        `; RSS ${fmtMb(relay.relay.rssBeforeMb)} MB with the publishers only, peak ` +
        `${fmtMb(relay.relay.peakRssMb)} MB with the readers (every 200 ms), ` +
        `VmHWM ${fmtMb(relay.relay.hwmAfterMb)} MB.`,
      `Other CPU over the window (% of one core): readers process ${fmtPercent(load.loadCpuPercent)}, ` +
        `all ${settings.publishers} publishers ${fmtPercent(load.publishersCpuPercent)}, ` +
        `the rest of the machine ${fmtPercent(rest)}, steal ${fmtPercent(load.stealCpuPercent)}.`,
    );
    const ff = load.firstFrame;
    lines.push(
      `Time to first frame for a new reader joining a running path (${ff.completed} of ${ff.samples} joins, ` +
        `all ${load.readers} readers still attached): PLAY sent to the first packet starting a keyframe ` +
        `p50 ${fmtMs(ff.keyframe.p50Ms)} ms, p90 ${fmtMs(ff.keyframe.p90Ms)} ms, ` +
        `p99 ${fmtMs(ff.keyframe.p99Ms)} ms, max ${fmtMs(ff.keyframe.maxMs)} ms; ` +
        `${ff.startedOnKeyframe} of ${ff.completed} started on it (GOP cache); ` +
        `first packet of any kind p50 ${fmtMs(ff.firstPacket.p50Ms)} ms.`,
      ...ff.errors.map((e) => `  first-frame join failed: ${e}`),
    );
    const warnings: string[] = [];
    if (load.whole.lost > 0 || load.whole.gaps > 0)
      warnings.push('packets went missing over TCP: the relay lost or skipped packets');
    if ((relay.relay.final?.readersDropped ?? 0) > 0 || load.readersClosedByRelay > 0)
      warnings.push('the relay dropped or closed readers during the run');
    if ((rest ?? 0) > DISTURBED_CPU_PERCENT)
      warnings.push(
        `other processes used ${fmtPercent(rest)}% of a core: the relay shared the machine`,
      );
    lines.push(...warnings.map((w) => `  WARNING: ${w}.`));
  }
  lines.push(...relay.problems.map((p) => `  problem: ${p}`));
  return lines;
}
