/**
 * The live grid: a tile per camera that is plugged in (or present with an error), each with
 * live video, name, status, size and rate, recording state and elapsed time. Tiles come and
 * go with camera_status_update notifications; unplugged cameras are named below.
 */
import { can } from '../session.js';
import type { Camera } from '../store.js';
import { CameraActions, RecordingBadge } from './actions.js';
import { useApp, useStore } from './context.js';
import { LiveVideo } from './live-video.js';

function Tile(props: { camera: Camera }) {
  const { role } = useApp();
  const { camera } = props;
  return (
    <li class="tile" data-device={camera.device} aria-labelledby={`tile-${camera.stream_path}`}>
      <LiveVideo camera={camera} />
      <div class="tile-info">
        <h2 id={`tile-${camera.stream_path}`}>
          <a href={`#/camera/${encodeURIComponent(camera.device)}`}>{camera.name}</a>
        </h2>
        <p class="meta">
          <span class={`status status-${camera.status.toLowerCase()}`}>{camera.status}</span>
          {camera.resolution && <span>{camera.resolution}</span>}
          {camera.fps > 0 && <span>{camera.fps} fps</span>}
          <RecordingBadge device={camera.device} />
        </p>
        {can(role, 'control') && <CameraActions camera={camera} />}
      </div>
    </li>
  );
}

export function Grid() {
  const { cameras } = useApp();
  const state = useStore(cameras);
  if (!state.loaded) return <p role="status">Loading cameras…</p>;
  const shown = state.cameras.filter((c) => c.status !== 'DISCONNECTED');
  const unplugged = state.cameras.filter((c) => c.status === 'DISCONNECTED');
  return (
    <section aria-labelledby="grid-title">
      <h1 id="grid-title">Cameras</h1>
      {shown.length === 0 ? (
        <p class="empty">No camera is connected. Plug one in: it appears here by itself.</p>
      ) : (
        <ul class="grid">
          {shown.map((camera) => (
            <Tile key={camera.device} camera={camera} />
          ))}
        </ul>
      )}
      {unplugged.length > 0 && (
        <p class="unplugged">
          Unplugged:{' '}
          {unplugged.map((c, i) => (
            <span key={c.device}>
              {i > 0 && ', '}
              <a href={`#/camera/${encodeURIComponent(c.device)}`}>{c.name}</a>
            </span>
          ))}
        </p>
      )}
    </section>
  );
}
