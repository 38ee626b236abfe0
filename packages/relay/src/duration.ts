/** Go-style durations as MediaMTX writes them: "10s", "500ms", "1m30s", "2h". */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (text.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`"${text}" is not a duration; use e.g. 10s, 500ms, 1m30s`);
  }
  return parts.reduce((total, p) => total + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}
