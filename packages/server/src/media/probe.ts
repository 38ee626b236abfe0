/**
 * One check of the media server, asked as every MediaMTX from v1.15 to v1.20 (and the
 * embedded relay) answers it:
 *
 *   liveness   GET /v3/paths/list, which every version has. Its answer is also the live
 *              state of every path: which streams are ready, and whether the service's
 *              paths are still there (a MediaMTX that restarted has forgotten them).
 *   identity   GET /v3/info, from v1.16 on: the version, and the start time that tells a
 *              restart. A 404 means an older MediaMTX, which is not asked again until it
 *              has been unreachable (it may come back upgraded).
 *
 * The identity is read on a best-effort basis: a media server that lists its paths is up.
 */
import type { MediaMtxClient, PathStatus } from './client.js';

export interface ProbeResult {
  /** null from a MediaMTX without /v3/info (before v1.16). */
  version: string | null;
  started: string | null;
  /** Every path the media server has now, with its live state. */
  paths: PathStatus[];
}

export class ServerProbe {
  readonly #client: MediaMtxClient;
  #info: 'unknown' | 'present' | 'absent' = 'unknown';

  constructor(client: MediaMtxClient) {
    this.#client = client;
  }

  /** Whether the media server has /v3/info; null until it has been asked. */
  get hasInfo(): boolean | null {
    return this.#info === 'unknown' ? null : this.#info === 'present';
  }

  /** Resolves with what the media server said; rejects when it is not answering. */
  async check(): Promise<ProbeResult> {
    let paths: PathStatus[];
    try {
      paths = await this.#client.listPaths();
    } catch (error) {
      this.#info = 'unknown';
      throw error;
    }
    let version: string | null = null;
    let started: string | null = null;
    if (this.#info !== 'absent') {
      try {
        const info = await this.#client.info();
        this.#info = info ? 'present' : 'absent';
        version = info?.version ?? null;
        started = info?.started ?? null;
      } catch {
        // It listed its paths: it is up, whatever /v3/info said this time.
      }
    }
    return { version, started, paths };
  }
}
