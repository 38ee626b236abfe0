/**
 * Latency samples and their percentiles. Samples go into a growing Float64Array rather
 * than a JS array of numbers: a few hundred thousand doubles cost a few MB and no
 * per-sample allocation, so recording does not disturb the load generator's own GC.
 * Percentiles are exact (nearest rank over the sorted samples), not bucketed.
 */

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyRecorder {
  #samples = new Float64Array(64 * 1024);
  #count = 0;

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const bigger = new Float64Array(this.#samples.length * 2);
      bigger.set(this.#samples);
      this.#samples = bigger;
    }
    this.#samples[this.#count] = ms;
    this.#count += 1;
  }

  summary(): LatencySummary {
    return summarize(this.#samples.subarray(0, this.#count));
  }
}

/** Sorts a copy; the caller's samples are left as they are. */
export function summarize(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) {
    return { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  }
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: n,
    minMs: round(sorted[0] ?? 0),
    meanMs: round(sum / n),
    p50Ms: round(percentile(sorted, 50)),
    p90Ms: round(percentile(sorted, 90)),
    p99Ms: round(percentile(sorted, 99)),
    p999Ms: round(percentile(sorted, 99.9)),
    maxMs: round(sorted[n - 1] ?? 0),
  };
}

/** Nearest-rank percentile of ascending samples: the smallest value with p% at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index] ?? 0;
}

/** Microsecond precision is plenty for a report in milliseconds. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * A summary in microseconds, for costs too small for milliseconds: `round` above keeps
 * 1 µs, which would flatten an API key check of a few µs to a single digit.
 */
export interface MicroSummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** Summarizes samples recorded in microseconds (LatencyRecorder does not care about units). */
export function summarizeMicros(recorder: LatencyRecorder): MicroSummary {
  // Recorded in µs, so summary()'s 0.001 rounding keeps nanoseconds; 0.01 µs is plenty.
  const s = recorder.summary();
  const us = (value: number) => Math.round(value * 100) / 100;
  return {
    count: s.count,
    meanUs: us(s.meanMs),
    p50Us: us(s.p50Ms),
    p99Us: us(s.p99Ms),
    maxUs: us(s.maxMs),
  };
}
