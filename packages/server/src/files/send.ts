/**
 * Sending a byte range of an open file to an HTTP response, with two bounds a stream
 * pipeline does not give:
 *
 * - Memory: one buffer per download, reused. A chunk is read, written, and the next one
 *   read only once the socket has taken all of it, so a client that stops reading holds
 *   one buffer, not a read-ahead as well.
 * - Time: the chunk goes out in slices, one after the other; each slice the socket takes
 *   re-arms the idle timer, and a client that takes nothing for `idleMs` has its response
 *   destroyed (which ends the download and frees its slot). A slow client that keeps
 *   reading is not cut: a slice is small enough to pass within the timeout at a few KB/s.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** Bigger reads than the 64 KiB default: fewer syscalls on large recordings. */
const READ_CHUNK = 4 * 1024 * 1024;
/** Progress is seen per slice written (one write each, so none is merged with the next). */
const SLICE = 256 * 1024;

export interface SendOutcome {
  /** Bytes the client's socket took. */
  sent: number;
  /** Cut for taking nothing for the idle timeout. */
  idle: boolean;
}

export async function sendRange(
  handle: FileHandle,
  res: ServerResponse,
  start: number,
  length: number,
  idleMs: number,
): Promise<SendOutcome> {
  let idle = false;
  const timer = setTimeout(() => {
    idle = true;
    res.destroy();
  }, idleMs);
  const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, length));
  let sent = 0;
  try {
    while (sent < length) {
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, length - sent),
        start + sent,
      );
      // The file is shorter than it was (truncated meanwhile): the caller cuts the response.
      if (bytesRead === 0) break;
      for (let offset = 0; offset < bytesRead; offset += SLICE) {
        const slice = buffer.subarray(offset, Math.min(bytesRead, offset + SLICE));
        await write(res, slice);
        sent += slice.length;
        timer.refresh();
      }
    }
  } catch {
    // The client went away, or was cut: nothing more to send.
  } finally {
    clearTimeout(timer);
  }
  return { sent, idle };
}

/** Resolves once the socket has taken the slice; rejects when the response closes first. */
function write(res: ServerResponse, slice: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) {
      reject(new Error('the response is closed'));
      return;
    }
    const onClose = () => reject(new Error('the response closed'));
    res.once('close', onClose);
    res.write(slice, (error) => {
      res.off('close', onClose);
      if (error) reject(error);
      else resolve();
    });
  });
}
