/**
 * Service metrics: Prometheus series for /metrics, and the running totals get_metrics
 * returns. Method labels come from the dispatcher, which folds unknown names into
 * `(unknown)`, so a client cannot blow up the series count.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface CallObservation {
  method: string;
  outcome: string;
  durationMs: number;
}

export interface RequestTotals {
  total_requests: number;
  failed_requests: number;
  /** Mean handling time in milliseconds since start. */
  average_response_time: number;
  /** Failed over total, 0 to 1. */
  error_rate: number;
}

export interface CpuUsage {
  /** Percent of one core over the last sampling window (can pass 100 on several cores). */
  percent: number;
  user_seconds: number;
  system_seconds: number;
}

const CPU_SAMPLE_MS = 2000;

/** Where a drop happened: the API's WebSocket, the relay's RTSP or HLS, or a file download. */
export type DropListener = 'websocket' | 'rtsp' | 'hls' | 'download';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'outcome'>;
  readonly #duration: Histogram<'method' | 'outcome'>;
  readonly #connections: Gauge;
  readonly #dropped: Counter<'listener' | 'reason'>;
  readonly #recordingFailures: Counter;
  /** Registered only when TLS is served: an unlabelled gauge would otherwise read 0 (expired). */
  #certificateExpiry: Gauge | undefined;
  /** Labelled children by `method\0outcome`: a lookup per call instead of label hashing. */
  readonly #series = new Map<
    string,
    { requests: { inc(): void }; duration: { observe(value: number): void } }
  >();
  #total = 0;
  #failed = 0;
  #durationSumMs = 0;
  #cpuSample = { at: performance.now(), usage: process.cpuUsage() };
  #cpuPercent = 0;
  readonly #cpuTimer: NodeJS.Timeout;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'camera_service_rpc_requests_total',
      help: 'JSON-RPC calls handled, by method and outcome (ok or the error kind).',
      labelNames: ['method', 'outcome'],
      registers: [this.registry],
    });
    this.#duration = new Histogram({
      name: 'camera_service_rpc_request_duration_seconds',
      help: 'Time to handle a JSON-RPC call, by method and outcome.',
      labelNames: ['method', 'outcome'],
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
        10, 30,
      ],
      registers: [this.registry],
    });
    this.#connections = new Gauge({
      name: 'camera_service_websocket_connections',
      help: 'Open WebSocket connections.',
      registers: [this.registry],
    });
    this.#dropped = new Counter({
      name: 'camera_service_dropped_total',
      help: 'Connections and requests refused or cut by the server to protect itself, by listener (websocket, rtsp, hls, download) and reason.',
      labelNames: ['listener', 'reason'],
      registers: [this.registry],
    });
    this.#recordingFailures = new Counter({
      name: 'camera_service_recording_failures_total',
      help: 'Recordings that ended as FAILED (ffmpeg died, the stream stalled, the output vanished).',
      registers: [this.registry],
    });
    this.#cpuTimer = setInterval(() => this.#sampleCpu(), CPU_SAMPLE_MS);
    this.#cpuTimer.unref();
  }

  observeCall(call: CallObservation): void {
    this.#total += 1;
    this.#durationSumMs += call.durationMs;
    if (call.outcome !== 'ok') this.#failed += 1;
    const key = `${call.method}\u0000${call.outcome}`;
    let series = this.#series.get(key);
    if (!series) {
      // Label sets are bounded (method names and error kinds), so the cache is too.
      const labels = { method: call.method, outcome: call.outcome };
      series = { requests: this.#requests.labels(labels), duration: this.#duration.labels(labels) };
      this.#series.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(call.durationMs / 1000);
  }

  setConnections(count: number): void {
    this.#connections.set(count);
  }

  /** A connection or request refused or cut to protect the service (a cap, a deadline, a slow reader). */
  dropped(listener: DropListener, reason: string): void {
    this.#dropped.inc({ listener, reason });
  }

  /** A recording ended as FAILED. */
  recordingFailed(): void {
    this.#recordingFailures.inc();
  }

  /** The served certificate's notAfter, as read at start (the service serves that one until restarted). */
  setCertificateExpiry(notAfter: Date): void {
    this.#certificateExpiry ??= new Gauge({
      name: 'camera_service_tls_certificate_expiry_timestamp_seconds',
      help: 'When the certificate the API port serves expires (Unix time); absent without TLS.',
      registers: [this.registry],
    });
    this.#certificateExpiry.set(Math.floor(notAfter.getTime() / 1000));
  }

  requestTotals(): RequestTotals {
    return {
      total_requests: this.#total,
      failed_requests: this.#failed,
      average_response_time: this.#total === 0 ? 0 : round(this.#durationSumMs / this.#total, 3),
      error_rate: this.#total === 0 ? 0 : round(this.#failed / this.#total, 4),
    };
  }

  cpuUsage(): CpuUsage {
    const usage = process.cpuUsage();
    return {
      percent: this.#cpuPercent,
      user_seconds: round(usage.user / 1e6, 3),
      system_seconds: round(usage.system / 1e6, 3),
    };
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    clearInterval(this.#cpuTimer);
  }

  #sampleCpu(): void {
    const now = performance.now();
    const usage = process.cpuUsage();
    const busyMicros =
      usage.user - this.#cpuSample.usage.user + (usage.system - this.#cpuSample.usage.system);
    const wallMicros = (now - this.#cpuSample.at) * 1000;
    this.#cpuPercent = wallMicros > 0 ? round((busyMicros / wallMicros) * 100, 1) : 0;
    this.#cpuSample = { at: now, usage };
  }
}

/** A PEM certificate file's notAfter (the first certificate of a chain: the server's own). */
export function certificateNotAfter(path: string): Date {
  return new Date(new X509Certificate(readFileSync(path)).validTo);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
