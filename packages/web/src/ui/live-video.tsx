/** A <video> with a LivePlayer on a camera's stream path, and a line saying what it does. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { playerOrder } from '../player/choose.js';
import { LivePlayer, browserSupport, type PlayerStatus } from '../player/player.js';
import type { Camera } from '../store.js';
import { useApp } from './context.js';

const PATH_LABEL = { webrtc: 'WebRTC', mse: 'MSE', hls: 'HLS' } as const;

export function LiveVideo(props: { camera: Camera; large?: boolean }) {
  const { forcedPath } = useApp();
  const ref = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<PlayerStatus | null>(null);
  const { camera } = props;
  const live = camera.status === 'CONNECTED';
  const hasWebrtc = camera.streams.webrtc !== null;
  useEffect(() => {
    const video = ref.current;
    if (!video || !live) return;
    const support = browserSupport();
    const order = playerOrder({
      serverWebrtc: hasWebrtc,
      browserWebrtc: support.webrtc,
      browserMse: support.mse,
      browserHls: support.hls,
      forced: forcedPath,
    });
    const player = new LivePlayer(video, camera.stream_path, order, setStatus);
    player.start();
    return () => player.stop();
  }, [camera.stream_path, live, hasWebrtc, forcedPath]);

  let line: string;
  if (!live) line = camera.status === 'ERROR' ? (camera.error ?? 'Camera error') : 'Unplugged';
  else if (!status || status.state === 'connecting') line = 'Connecting…';
  else if (status.state === 'playing')
    line = `Live · ${status.path ? PATH_LABEL[status.path] : ''}`;
  else if (status.state === 'reconnecting')
    line = `Stream lost, reconnecting (${status.message ?? ''})`;
  else line = status.message ?? status.state;
  const state = live ? (status?.state ?? 'connecting') : 'offline';
  return (
    <div class={`video-box ${props.large ? 'large' : ''}`}>
      <video
        ref={ref}
        class="live"
        muted
        autoplay
        playsInline
        aria-label={`Live video of ${camera.name}`}
        data-stream={camera.stream_path}
      />
      <p class={`video-state state-${state}`} role="status">
        {line}
      </p>
    </div>
  );
}
