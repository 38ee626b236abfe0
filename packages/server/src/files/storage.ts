/** How full the volume holding the media is, against the configured thresholds. */
import { statfs } from 'node:fs/promises';
import type { Config } from '../config/index.js';

export type ThresholdStatus = 'ok' | 'warn' | 'block' | 'critical';

export interface VolumeUsage {
  total_space: number;
  used_space: number;
  available_space: number;
  /** Used, as a percentage of what is usable (root's reserve excluded, as df shows it). */
  usage_percentage: number;
}

export async function volumeUsage(dir: string): Promise<VolumeUsage> {
  const s = await statfs(dir);
  const total = s.blocks * s.bsize;
  const free = s.bfree * s.bsize;
  const available = s.bavail * s.bsize;
  const used = total - free;
  const usable = used + available;
  return {
    total_space: total,
    used_space: used,
    available_space: available,
    usage_percentage: usable > 0 ? Math.round((used / usable) * 1000) / 10 : 0,
  };
}

export function thresholdStatus(percent: number, storage: Config['storage']): ThresholdStatus {
  if (percent >= storage.critical_percent) return 'critical';
  if (percent >= storage.block_percent) return 'block';
  if (percent >= storage.warn_percent) return 'warn';
  return 'ok';
}
