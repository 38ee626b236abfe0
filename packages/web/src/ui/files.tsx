/**
 * Recordings and snapshots: a tab each, paged, sorted, filtered by camera; preview (an
 * image, or a video that seeks through HTTP Range on /files), download, delete with a
 * confirmation (operators). Admins also see the storage gauge and the retention policy.
 */
import { useState } from 'preact/hooks';
import type { ListRecordingsResult } from '@camera-service/sdk';
import { can } from '../session.js';
import { formatBytes } from '../store.js';
import { fileUrl } from './actions.js';
import { errorText, useApp, usePoll, useStore } from './context.js';
import { Confirm, Dialog } from './dialog.js';
import { Storage } from './storage.js';

type Kind = 'recordings' | 'snapshots';
type FileEntry = ListRecordingsResult['files'][number];
type Sort = 'newest' | 'oldest' | 'name' | 'largest';
const PAGE = 20;

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function Files() {
  const { conn, role, cameras, announce } = useApp();
  const cams = useStore(cameras);
  const [kind, setKind] = useState<Kind>('recordings');
  const [device, setDevice] = useState('');
  const [sort, setSort] = useState<Sort>('newest');
  const [offset, setOffset] = useState(0);
  const [preview, setPreview] = useState<FileEntry | null>(null);
  const [toDelete, setToDelete] = useState<FileEntry | null>(null);
  const list = usePoll(
    () => {
      const params = { limit: PAGE, offset, sort, ...(device ? { device } : {}) };
      return kind === 'recordings'
        ? conn.call('list_recordings', params)
        : conn.call('list_snapshots', params);
    },
    10_000,
    [kind, device, sort, offset],
  );
  const choose = (next: Kind) => {
    setKind(next);
    setOffset(0);
  };
  const remove = async (file: FileEntry) => {
    setToDelete(null);
    try {
      const result =
        kind === 'recordings'
          ? await conn.call('delete_recording', { filename: file.filename })
          : await conn.call('delete_snapshot', { filename: file.filename });
      announce(result.message);
      list.reload();
    } catch (error) {
      announce(errorText(error), 'error');
    }
  };
  const data = list.data;
  const total = data?.total ?? 0;
  return (
    <section aria-labelledby="files-title">
      <h1 id="files-title">Files</h1>
      {can(role, 'admin') && <Storage />}
      <div role="tablist" aria-label="Kind of file" class="tabs">
        {(['recordings', 'snapshots'] as const).map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            id={`tab-${k}`}
            aria-selected={kind === k}
            aria-controls="files-panel"
            tabIndex={kind === k ? 0 : -1}
            onClick={() => choose(k)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = k === 'recordings' ? 'snapshots' : 'recordings';
                choose(next);
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}
          >
            {k === 'recordings' ? 'Recordings' : 'Snapshots'}
          </button>
        ))}
      </div>
      <div id="files-panel" role="tabpanel" aria-labelledby={`tab-${kind}`}>
        <div class="row filters">
          <label>
            Camera{' '}
            <select
              value={device}
              onChange={(e) => {
                setDevice((e.target as HTMLSelectElement).value);
                setOffset(0);
              }}
            >
              <option value="">All cameras</option>
              {cams.cameras.map((c) => (
                <option key={c.device} value={c.device}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Sort{' '}
            <select
              value={sort}
              onChange={(e) => {
                setSort((e.target as HTMLSelectElement).value as Sort);
                setOffset(0);
              }}
            >
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
              <option value="name">By name</option>
              <option value="largest">Largest first</option>
            </select>
          </label>
          <button type="button" onClick={list.reload}>
            Refresh
          </button>
        </div>
        {list.error && <p class="error">{list.error}</p>}
        {data && data.files.length === 0 && <p class="empty">No {kind} here.</p>}
        {data && data.files.length > 0 && (
          <ul class="files" aria-label={kind}>
            {data.files.map((file) => (
              <li key={file.filename} class="file" data-filename={file.filename}>
                <div class="file-name">
                  <strong>{file.filename}</strong>
                  <span class="meta">
                    <span>{file.device ?? 'no camera'}</span>
                    <span>{formatBytes(file.file_size)}</span>
                    <span>{when(file.modified_time)}</span>
                    {file.duration !== undefined && <span>{file.duration.toFixed(1)} s</span>}
                    {file.in_progress && <span class="badge rec">recording</span>}
                  </span>
                </div>
                <div class="row">
                  <button type="button" onClick={() => setPreview(file)}>
                    Preview
                  </button>
                  <a class="button" href={fileUrl(kind, file.filename)} download={file.filename}>
                    Download
                  </a>
                  {can(role, 'control') && (
                    <button
                      type="button"
                      class="danger"
                      disabled={file.in_progress}
                      title={file.in_progress ? 'Stop the recording first' : undefined}
                      onClick={() => setToDelete(file)}
                    >
                      Delete
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
        {total > 0 && (
          <nav class="row pager" aria-label="Pages">
            <button
              type="button"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
            >
              Previous
            </button>
            <span>
              {offset + 1}–{Math.min(total, offset + PAGE)} of {total}
            </span>
            <button
              type="button"
              disabled={offset + PAGE >= total}
              onClick={() => setOffset(offset + PAGE)}
            >
              Next
            </button>
          </nav>
        )}
      </div>
      {preview && (
        <Dialog title={preview.filename} onClose={() => setPreview(null)} wide>
          {kind === 'snapshots' ? (
            <img
              class="preview"
              src={fileUrl(kind, preview.filename)}
              alt={`Snapshot ${preview.filename}`}
            />
          ) : (
            <video
              class="preview"
              controls
              preload="metadata"
              src={fileUrl(kind, preview.filename)}
              aria-label={`Recording ${preview.filename}`}
            />
          )}
        </Dialog>
      )}
      {toDelete && (
        <Confirm
          title="Delete this file?"
          message={`${toDelete.filename} will be deleted for good.`}
          confirmLabel="Delete"
          onCancel={() => setToDelete(null)}
          onConfirm={() => void remove(toDelete)}
        />
      )}
    </section>
  );
}
