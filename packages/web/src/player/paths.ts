/**
 * The three ways of getting a live stream into a <video>, each a function that starts it
 * and returns a handle to stop it. They report failure once (then the player moves on);
 * noticing the first frame and stalls is the player's job, the same for all three.
 * Everything goes to the page's own origin, under /streams/<path>/: the session cookie
 * is the credential, never a token in a URL.
 */
import {
  HLS_EDGE,
  LOW_LATENCY_EDGE,
  liveEdgeAction,
  toRanges,
  type EdgeOptions,
} from './live-edge.js';

export interface PathEvents {
  /** The path cannot go on (said once), as a sentence. */
  failed(reason: string): void;
}

export interface PathHandle {
  stop(): void;
}

const streamBase = (streamPath: string) => `/streams/${encodeURIComponent(streamPath)}`;

function wsUrl(path: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${path}`;
}

function play(video: HTMLVideoElement): void {
  video.play().catch(() => {
    // Autoplay of a muted video is allowed; a refusal shows as no progress (the watchdog).
  });
}

/** Keeps `video` near the end of its buffer; trims old buffer through `remove`. */
function keepLive(
  video: HTMLVideoElement,
  options: EdgeOptions,
  remove?: (before: number) => void,
): () => void {
  const timer = setInterval(() => {
    const action = liveEdgeAction(video.currentTime, toRanges(video.buffered), options);
    if (action.seekTo !== null) video.currentTime = action.seekTo;
    if (action.removeBefore !== null && remove) remove(action.removeBefore);
    if (video.paused && video.buffered.length > 0) play(video);
  }, 250);
  return () => clearInterval(timer);
}

const CLOSE_REASONS: Record<number, string> = {
  4401: 'the session has ended: sign in again',
  4404: 'the server has no such stream',
};

/** At most this much media waiting to be appended; more means the browser cannot keep up. */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** fMP4 over a WebSocket into MediaSource: the low-latency path on every media plane. */
export function startMse(
  video: HTMLVideoElement,
  streamPath: string,
  events: PathEvents,
): PathHandle {
  let stopped = false;
  const fail = (reason: string) => {
    if (stopped) return;
    stop();
    events.failed(reason);
  };
  const source = new MediaSource();
  const objectUrl = URL.createObjectURL(source);
  video.src = objectUrl;
  const socket = new WebSocket(wsUrl(`${streamBase(streamPath)}/mse`));
  socket.binaryType = 'arraybuffer';
  let codec: string | null = null;
  let buffer: SourceBuffer | null = null;
  const queue: ArrayBuffer[] = [];
  let queuedBytes = 0;
  let pendingRemove: number | null = null;

  const pump = () => {
    if (!buffer || buffer.updating || stopped) return;
    if (pendingRemove !== null) {
      const before = pendingRemove;
      pendingRemove = null;
      const start = buffer.buffered.length > 0 ? buffer.buffered.start(0) : 0;
      if (before > start) {
        buffer.remove(start, before);
        return;
      }
    }
    const next = queue.shift();
    if (!next) return;
    queuedBytes -= next.byteLength;
    try {
      buffer.appendBuffer(next);
    } catch (error) {
      fail(`the browser refused the stream's media (${(error as Error).name})`);
    }
  };
  const openBuffer = () => {
    if (buffer || !codec || source.readyState !== 'open') return;
    if (!MediaSource.isTypeSupported(codec)) {
      fail(`this browser cannot play ${codec}`);
      return;
    }
    buffer = source.addSourceBuffer(codec);
    buffer.mode = 'segments';
    buffer.addEventListener('updateend', pump);
    buffer.addEventListener('error', () => fail('the browser could not decode the stream'));
    pump();
  };
  source.addEventListener('sourceopen', openBuffer);
  socket.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (typeof event.data === 'string') {
      try {
        const message = JSON.parse(event.data) as { type?: string; codec?: string };
        if (message.type === 'init' && typeof message.codec === 'string') {
          codec = message.codec;
          openBuffer();
        }
      } catch {
        fail('the server sent a message the player does not understand');
      }
      return;
    }
    if (!(event.data instanceof ArrayBuffer)) return;
    queue.push(event.data);
    queuedBytes += event.data.byteLength;
    if (queuedBytes > MAX_QUEUED_BYTES) {
      fail('the browser cannot keep up with the stream');
      return;
    }
    pump();
  });
  socket.addEventListener('close', (event: CloseEvent) => {
    fail(`the stream closed: ${CLOSE_REASONS[event.code] ?? `code ${event.code}`}`);
  });
  const stopEdge = keepLive(video, LOW_LATENCY_EDGE, (before) => {
    pendingRemove = before;
    pump();
  });
  play(video);

  function stop() {
    if (stopped) return;
    stopped = true;
    stopEdge();
    socket.close(1000, 'player stopped');
    if (source.readyState === 'open') {
      try {
        source.endOfStream();
      } catch {
        // Already ending.
      }
    }
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(objectUrl);
  }
  return { stop };
}

/** The browser's own HLS player on the proxied playlist: slow to start, plays anywhere. */
export function startHls(
  video: HTMLVideoElement,
  streamPath: string,
  events: PathEvents,
): PathHandle {
  let stopped = false;
  const onError = () => {
    if (stopped) return;
    const detail = video.error ? ` (${video.error.message || `code ${video.error.code}`})` : '';
    stop();
    events.failed(`the HLS stream failed${detail}`);
  };
  const playlist = `${streamBase(streamPath)}/index.m3u8`;
  let stopEdge = () => {};
  // Chromium's own HLS player gives up (a parse error) on a live playlist of fewer than
  // three segments, which a stream just started on demand has: wait until it has them.
  (async () => {
    for (;;) {
      if (stopped) return;
      const response = await fetch(playlist, { cache: 'no-store', credentials: 'same-origin' });
      if (response.status === 401) throw new Error('the session has ended: sign in again');
      if (response.ok && ((await response.text()).match(/#EXTINF/g)?.length ?? 0) >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (stopped) return;
    video.addEventListener('error', onError);
    video.src = playlist;
    stopEdge = keepLive(video, HLS_EDGE);
    play(video);
  })().catch((error: unknown) => {
    if (stopped) return;
    stop();
    events.failed((error as Error).message);
  });
  function stop() {
    if (stopped) return;
    stopped = true;
    stopEdge();
    video.removeEventListener('error', onError);
    video.removeAttribute('src');
    video.load();
  }
  return { stop };
}

/** Waits until the browser has gathered its ICE candidates (or `ms` passed). */
function gathered(pc: RTCPeerConnection, ms: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** WebRTC by WHEP through the service (MediaMTX media planes): the lowest latency. */
export function startWhep(
  video: HTMLVideoElement,
  streamPath: string,
  events: PathEvents,
): PathHandle {
  let stopped = false;
  let session: string | null = null;
  const pc = new RTCPeerConnection();
  const fail = (reason: string) => {
    if (stopped) return;
    stop();
    events.failed(reason);
  };
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addEventListener('track', (event: RTCTrackEvent) => {
    if (event.track.kind !== 'video') return;
    video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    play(video);
  });
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
      fail(`the WebRTC connection ${pc.connectionState === 'failed' ? 'failed' : 'closed'}`);
    }
  });
  (async () => {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await gathered(pc, 1500);
    const response = await fetch(`${streamBase(streamPath)}/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription?.sdp ?? offer.sdp ?? '',
    });
    if (!response.ok) {
      let sentence = `the server answered ${response.status}`;
      try {
        const body = (await response.json()) as { error?: string };
        if (body.error) sentence = body.error;
      } catch {
        // Not JSON: the status says enough.
      }
      throw new Error(sentence);
    }
    session = response.headers.get('Location');
    if (stopped) {
      stop();
      return;
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  })().catch((error: unknown) => fail(`WebRTC is not available: ${(error as Error).message}`));

  function stop() {
    if (stopped && pc.signalingState === 'closed') return;
    stopped = true;
    pc.close();
    if (session) {
      fetch(session, { method: 'DELETE' }).catch(() => undefined);
      session = null;
    }
    video.srcObject = null;
  }
  return { stop };
}
