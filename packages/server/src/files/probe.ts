/** ffprobe facts about a media file: for file info, stop results and crash recovery. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MediaFacts {
  /** Seconds of media; null when ffprobe cannot tell (a still image). */
  duration: number | null;
  /** The first video stream's codec (h264, mjpeg...), or null. */
  codec: string | null;
  width: number | null;
  height: number | null;
}

interface ProbeJson {
  format?: { duration?: string };
  streams?: { codec_type?: string; codec_name?: string; width?: number; height?: number }[];
}

/** Video codec, size and duration of a file; rejects when ffprobe cannot read it. */
export async function probeMedia(file: string, timeoutMs = 30_000): Promise<MediaFacts> {
  const { stdout } = await run(
    'ffprobe',
    [
      ...['-v', 'error', '-of', 'json'],
      ...['-show_entries', 'format=duration:stream=codec_type,codec_name,width,height'],
      file,
    ],
    { timeout: timeoutMs },
  );
  const parsed = JSON.parse(stdout) as ProbeJson;
  const video = parsed.streams?.find((s) => s.codec_type === 'video');
  const duration = Number.parseFloat(parsed.format?.duration ?? '');
  return {
    duration: Number.isFinite(duration)
      ? duration
      : video && video.codec_name !== 'mjpeg'
        ? await lastPacketTime(file, timeoutMs)
        : null,
    codec: video?.codec_name ?? null,
    width: video?.width ?? null,
    height: video?.height ?? null,
  };
}

/**
 * Seconds of media in the file. The container's own duration when it has one; else (a
 * Matroska file whose writer was killed before it wrote the duration) from its last
 * video packet. Rejects when ffprobe cannot read the file.
 */
export async function probeDuration(file: string, timeoutMs = 30_000): Promise<number> {
  const { stdout } = await run(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
    { timeout: timeoutMs },
  );
  const value = Number.parseFloat(stdout.trim());
  return Number.isFinite(value) ? value : lastPacketTime(file, timeoutMs);
}

async function lastPacketTime(file: string, timeoutMs: number): Promise<number> {
  const packets = await run(
    'ffprobe',
    [
      ...['-v', 'error', '-select_streams', 'v:0'],
      ...['-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file],
    ],
    { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
  );
  const times = packets.stdout
    .split('\n')
    .map((line) => Number.parseFloat(line))
    .filter((n) => Number.isFinite(n));
  if (times.length === 0) throw new Error(`ffprobe found no video in ${file}`);
  return Math.max(...times) - Math.min(...times);
}
