/**
 * Camera actions for operators and admins: a snapshot (the picture shown, saved in files)
 * and recording, with an optional duration. Not rendered for viewers; the server refuses
 * them anyway.
 */
import { useState } from 'preact/hooks';
import type { TakeSnapshotResult } from '@camera-service/sdk';
import { formatElapsed, type Camera } from '../store.js';
import { errorText, useApp, useNow, useStore } from './context.js';
import { Dialog } from './dialog.js';

export function fileUrl(kind: 'recordings' | 'snapshots', filename: string): string {
  return `/files/${kind}/${encodeURIComponent(filename)}`;
}

export function RecordingBadge(props: { device: string }) {
  const { cameras } = useApp();
  const state = useStore(cameras);
  const now = useNow();
  const recording = state.recordings[props.device];
  if (!recording?.active) return <span class="badge idle">Not recording</span>;
  return (
    <span class="badge rec" aria-label="Recording">
      ● REC {recording.startedAt !== null ? formatElapsed(now - recording.startedAt) : ''}
    </span>
  );
}

export function CameraActions(props: { camera: Camera }) {
  const { conn, cameras, announce } = useApp();
  const state = useStore(cameras);
  const { camera } = props;
  const recording = state.recordings[camera.device];
  const [busy, setBusy] = useState(false);
  const [snapshot, setSnapshot] = useState<TakeSnapshotResult | null>(null);
  const [askDuration, setAskDuration] = useState(false);
  const [duration, setDuration] = useState('');
  const usable = camera.status === 'CONNECTED';

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    try {
      await what();
    } catch (error) {
      announce(errorText(error), 'error');
    } finally {
      setBusy(false);
    }
  };
  const takeSnapshot = () =>
    run(async () => {
      const result = await conn.call('take_snapshot', { device: camera.device });
      setSnapshot(result);
      announce(`Snapshot saved as ${result.filename}.`);
    });
  const startRecording = (seconds: number | null) =>
    run(async () => {
      const result = await conn.call(
        'start_recording',
        seconds === null ? { device: camera.device } : { device: camera.device, duration: seconds },
      );
      setAskDuration(false);
      announce(`Recording to ${result.filename}.`);
    });
  const stopRecording = () =>
    run(async () => {
      const result = await conn.call('stop_recording', { device: camera.device });
      announce(
        `Recording stopped: ${result.duration.toFixed(1)} s in ${result.files.length} file(s).`,
      );
    });

  return (
    <div class="actions">
      <button type="button" disabled={!usable || busy} onClick={takeSnapshot}>
        Snapshot
      </button>
      {recording?.active ? (
        <button type="button" class="danger" disabled={busy} onClick={stopRecording}>
          Stop recording
        </button>
      ) : (
        <button type="button" disabled={!usable || busy} onClick={() => setAskDuration(true)}>
          Record…
        </button>
      )}
      {askDuration && (
        <Dialog title={`Record ${camera.name}`} onClose={() => setAskDuration(false)}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const seconds = duration.trim() === '' ? null : Number(duration);
              if (seconds !== null && !(seconds > 0)) {
                announce('The duration is a number of seconds above 0, or empty.', 'error');
                return;
              }
              void startRecording(seconds);
            }}
          >
            <label for={`duration-${camera.stream_path}`}>
              Duration in seconds (empty: until stopped)
            </label>
            <input
              id={`duration-${camera.stream_path}`}
              name="duration"
              type="number"
              min="1"
              step="1"
              inputMode="numeric"
              value={duration}
              onInput={(e) => setDuration((e.target as HTMLInputElement).value)}
            />
            <div class="row end">
              <button type="button" onClick={() => setAskDuration(false)}>
                Cancel
              </button>
              <button type="submit" class="primary" disabled={busy}>
                Start recording
              </button>
            </div>
          </form>
        </Dialog>
      )}
      {snapshot && (
        <Dialog title={`Snapshot of ${camera.name}`} onClose={() => setSnapshot(null)} wide>
          <img
            class="preview"
            src={fileUrl('snapshots', snapshot.filename)}
            alt={`Snapshot ${snapshot.filename}`}
          />
          <p>
            Saved as <code>{snapshot.filename}</code> ({snapshot.capture_ms} ms).{' '}
            <a href={fileUrl('snapshots', snapshot.filename)} download={snapshot.filename}>
              Download
            </a>
          </p>
        </Dialog>
      )}
    </div>
  );
}
