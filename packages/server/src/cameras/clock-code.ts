/**
 * The machine-readable wall clock a test-pattern camera can draw (`test_pattern.clock_code`),
 * so that a test reading back a decoded frame (a canvas in the browser, ffmpeg's raw output)
 * computes glass-to-glass latency: now minus the time the frame was made.
 *
 * Encoding: a strip across the top of the frame, BLOCK = floor(width / 40) pixels high
 * (8 for 320 px wide), cut into 40 square blocks of BLOCK pixels from the left. Block i
 * is white when bit (39 - i) of the epoch milliseconds at capture, modulo 2^40, is 1, and
 * black when it is 0 (most significant bit first). 2^40 ms is about 34.8 years, so a
 * reader that knows the time roughly (its own clock) recovers the full epoch time.
 *
 * media/command.ts draws it (clockCodeFilters). No dependencies and no module-level references inside `decodeClockCode`, so a browser
 * test may pass `decodeClockCode.toString()` to a page and call it there.
 */

/** Bits in the code, and blocks across the strip. */
export const CLOCK_CODE_BITS = 40;

/** The side of one block (and the strip's height) for a frame this wide. */
export function clockCodeBlock(width: number): number {
  return Math.max(1, Math.floor(width / CLOCK_CODE_BITS));
}

/**
 * The epoch milliseconds encoded in a frame, or null when the strip does not hold a clean
 * code (a block's centre neither clearly dark nor clearly light).
 *
 * @param pixels the frame's pixels, row by row, `channels` bytes each (4: RGBA as a
 *   canvas's getImageData gives; 3: RGB as ffmpeg's `-pix_fmt rgb24` gives)
 * @param width the frame's width in pixels
 * @param reference a time near the capture time (default: now), to place the 40-bit value
 */
export function decodeClockCode(
  pixels: ArrayLike<number>,
  width: number,
  channels = 4,
  reference: number = Date.now(),
): number | null {
  const bits = 40;
  const block = Math.max(1, Math.floor(width / bits));
  // The middle half of each block: away from the edges the encoder blurs.
  const inset = Math.floor(block / 4);
  const span = Math.max(1, block - 2 * inset);
  let value = 0;
  for (let i = 0; i < bits; i += 1) {
    let sum = 0;
    let n = 0;
    for (let y = inset; y < inset + span; y += 1) {
      for (let x = i * block + inset; x < i * block + inset + span; x += 1) {
        const at = (y * width + x) * channels;
        const r = pixels[at] ?? 0;
        const g = pixels[at + 1] ?? 0;
        const b = pixels[at + 2] ?? 0;
        sum += 0.299 * r + 0.587 * g + 0.114 * b;
        n += 1;
      }
    }
    const luma = sum / n;
    if (luma > 80 && luma < 176) return null;
    value = value * 2 + (luma >= 128 ? 1 : 0);
  }
  // The time ≡ value (mod 2^40) nearest the reference.
  const period = 2 ** bits;
  const base = reference - (((reference % period) + period) % period);
  let best = base + value;
  for (const candidate of [best - period, best + period]) {
    if (Math.abs(candidate - reference) < Math.abs(best - reference)) best = candidate;
  }
  return best;
}
