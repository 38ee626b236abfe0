/**
 * One camera: large live video, actions, capabilities, the stream URLs to copy (with how to
 * pass a credential to a player outside this page) and the stream's metrics.
 */
import { useState } from 'preact/hooks';
import { can } from '../session.js';
import { formatBytes } from '../store.js';
import { CameraActions, RecordingBadge } from './actions.js';
import { useApp, usePoll, useStore } from './context.js';
import { LiveVideo } from './live-video.js';

function CopyField(props: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  const id = `url-${props.label.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <div class="copy-field">
      <label for={id}>{props.label}</label>
      <div class="row">
        <input id={id} readOnly value={props.value} onFocus={(e) => e.currentTarget.select()} />
        <button
          type="button"
          aria-label={`Copy ${props.label}`}
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(props.value);
              setCopied(true);
              setTimeout(() => setCopied(false), 1500);
            } catch {
              document.getElementById(id)?.focus();
            }
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

export function CameraPage(props: { device: string }) {
  const { cameras, conn, role } = useApp();
  const state = useStore(cameras);
  const camera = state.cameras.find((c) => c.device === props.device);
  const status = usePoll(() => conn.call('get_camera_status', { device: props.device }), 5000, [
    props.device,
  ]);
  if (!state.loaded) return <p role="status">Loading…</p>;
  if (!camera) {
    return (
      <section>
        <h1>Unknown camera</h1>
        <p>
          The service knows no camera {props.device}. <a href="#/">Back to the cameras</a>
        </p>
      </section>
    );
  }
  const origin = location.origin;
  const base = `${origin}/streams/${encodeURIComponent(camera.stream_path)}`;
  const metrics = status.data?.metrics;
  return (
    <section aria-labelledby="camera-title" class="camera-page">
      <p>
        <a href="#/">← All cameras</a>
      </p>
      <h1 id="camera-title">{camera.name}</h1>
      <p class="meta">
        <span class={`status status-${camera.status.toLowerCase()}`}>{camera.status}</span>
        {camera.resolution && <span>{camera.resolution}</span>}
        {camera.fps > 0 && <span>{camera.fps} fps</span>}
        <RecordingBadge device={camera.device} />
      </p>
      {camera.error && <p class="error">{camera.error}</p>}
      <LiveVideo camera={camera} large />
      {can(role, 'control') && <CameraActions camera={camera} />}
      <div class="columns">
        <div>
          <h2>Details</h2>
          <dl class="facts">
            <dt>Device</dt>
            <dd>{camera.device}</dd>
            <dt>Kind</dt>
            <dd>{camera.kind}</dd>
            <dt>Stream path</dt>
            <dd>{camera.stream_path}</dd>
            {camera.driver && (
              <>
                <dt>Driver</dt>
                <dd>{camera.driver}</dd>
              </>
            )}
            {camera.capture_format && (
              <>
                <dt>Capture format</dt>
                <dd>{camera.capture_format}</dd>
              </>
            )}
            <dt>Formats</dt>
            <dd>{camera.capabilities.formats.join(', ') || '—'}</dd>
            <dt>Resolutions</dt>
            <dd>{camera.capabilities.resolutions.join(', ') || '—'}</dd>
            <dt>Frame rates</dt>
            <dd>{camera.capabilities.frame_rates.join(', ') || '—'}</dd>
          </dl>
          <h2>Stream metrics</h2>
          {status.error && <p class="error">{status.error}</p>}
          {metrics ? (
            <dl class="facts">
              <dt>Stream ready</dt>
              <dd>{status.data?.stream_ready ? 'yes' : 'no (starts with its first reader)'}</dd>
              <dt>Readers</dt>
              <dd>{metrics.readers}</dd>
              <dt>Sent</dt>
              <dd>{formatBytes(metrics.bytes_sent)}</dd>
              <dt>Uptime</dt>
              <dd>{Math.round(metrics.uptime)} s</dd>
            </dl>
          ) : (
            !status.error && <p>Loading…</p>
          )}
        </div>
        <div>
          <h2>Stream URLs</h2>
          {camera.streams.rtsp && <CopyField label="RTSP" value={camera.streams.rtsp} />}
          <CopyField label="HLS (this port)" value={`${base}/index.m3u8`} />
          {camera.streams.hls && (
            <CopyField label="HLS (media server)" value={camera.streams.hls} />
          )}
          {camera.streams.webrtc && (
            <>
              <CopyField label="WebRTC WHEP (this port)" value={`${base}/whep`} />
              <CopyField label="WebRTC page (media server)" value={camera.streams.webrtc} />
            </>
          )}
          <CopyField
            label="MSE WebSocket (this port)"
            value={`${base.replace(/^http/, 'ws')}/mse`}
          />
          <h3>Passing a credential</h3>
          {camera.streams.credential === null ? (
            <p>Anyone may watch these streams: no credential is needed.</p>
          ) : (
            <>
              <p>
                This page's session cookie opens the streams here. Another player needs a viewer
                credential (a JWT or an API key), given as <code>?token=</code> or, for HTTP, an{' '}
                <code>Authorization: Bearer</code> header. Replace <code>{'{token}'}</code> with it:
              </p>
              {camera.streams.token_urls && (
                <>
                  <CopyField label="RTSP with token" value={camera.streams.token_urls.rtsp} />
                  <CopyField label="HLS with token" value={camera.streams.token_urls.hls} />
                </>
              )}
              <p class="hint">
                RTSP also takes the credential as the password:{' '}
                <code>rtsp://any:{'{token}'}@host/path</code> (API keys fit; JWTs are too long for
                ffmpeg's 127 bytes).
              </p>
            </>
          )}
        </div>
      </div>
    </section>
  );
}
