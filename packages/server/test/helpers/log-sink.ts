/** Captures structured log records so tests can wait for a line instead of sleeping. */
import { EventEmitter } from 'node:events';

export type LogRecord = Record<string, unknown> & { level: string; msg: string };

export class LogSink extends EventEmitter<{ record: [LogRecord] }> {
  readonly records: LogRecord[] = [];
  /** Every line as written, for what JSON.parse hides (a key written twice). */
  readonly lines: string[] = [];

  /** pino destination interface: one JSON line per call. */
  write(line: string): void {
    for (const text of line.split('\n')) {
      if (text.trim() === '') continue;
      this.lines.push(text);
      try {
        this.push(JSON.parse(text) as LogRecord);
      } catch {
        // not JSON (a stray line on stdout): ignored
      }
    }
  }

  push(record: LogRecord): void {
    this.records.push(record);
    this.emit('record', record);
  }

  find(predicate: (r: LogRecord) => boolean): LogRecord | undefined {
    return this.records.find(predicate);
  }

  /** Resolves with the first record (already seen or future) matching, or rejects after timeoutMs. */
  waitFor(
    predicate: (r: LogRecord) => boolean,
    timeoutMs = 5000,
    what = 'log record',
  ): Promise<LogRecord> {
    const seen = this.records.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('record', onRecord);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const onRecord = (record: LogRecord) => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        this.off('record', onRecord);
        resolve(record);
      };
      this.on('record', onRecord);
    });
  }
}

export const byMsg = (msg: string) => (r: LogRecord) => r.msg === msg;
