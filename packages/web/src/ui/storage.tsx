/** Admins: how full the storage is against its thresholds, the retention policy, cleanup. */
import { useState } from 'preact/hooks';
import type { SetRetentionPolicyParams } from '@camera-service/sdk';
import { formatBytes } from '../store.js';
import { errorText, useApp, usePoll } from './context.js';

export function Storage() {
  const { conn, announce } = useApp();
  const info = usePoll(() => conn.call('get_storage_info'), 15_000, []);
  const [editing, setEditing] = useState<SetRetentionPolicyParams | null>(null);
  const data = info.data;
  if (info.error) return <p class="error">{info.error}</p>;
  if (!data) return <p role="status">Loading storage…</p>;
  const t = data.thresholds;
  const r = data.retention;
  const save = async (policy: SetRetentionPolicyParams) => {
    try {
      await conn.call('set_retention_policy', policy);
      announce('Retention policy saved.');
      setEditing(null);
      info.reload();
    } catch (error) {
      announce(errorText(error), 'error');
    }
  };
  const cleanup = async () => {
    try {
      const result = await conn.call('cleanup_old_files');
      announce(result.message);
      info.reload();
    } catch (error) {
      announce(errorText(error), 'error');
    }
  };
  return (
    <div class="storage card">
      <h2>Storage</h2>
      <label for="storage-meter">
        {data.usage_percentage.toFixed(1)}% used · {formatBytes(data.available_space)} free of{' '}
        {formatBytes(data.total_space)} · status <strong>{data.threshold_status}</strong>
      </label>
      <meter
        id="storage-meter"
        min={0}
        max={100}
        low={t.warn_percent}
        high={t.block_percent}
        optimum={0}
        value={data.usage_percentage}
      />
      <p class="hint">
        Thresholds: warn at {t.warn_percent}%, new recordings refused at {t.block_percent}%,
        recordings stopped at {t.critical_percent}%. Recordings {data.recordings_count} (
        {formatBytes(data.recordings_size)}), snapshots {data.snapshots_count} (
        {formatBytes(data.snapshots_size)}).
      </p>
      <p>
        Retention: <strong>{r.policy_type}</strong>
        {r.policy_type === 'age' && `, older than ${r.max_age_days} days`}
        {r.policy_type === 'size' && r.max_size_gb !== null && `, beyond ${r.max_size_gb} GB`},{' '}
        {r.enabled ? 'runs by itself' : 'not automatic'} (from {r.source}).
      </p>
      <div class="row">
        <button
          type="button"
          onClick={() =>
            setEditing({
              policy_type: r.policy_type,
              enabled: r.enabled,
              max_age_days: r.max_age_days,
              ...(r.max_size_gb !== null ? { max_size_gb: r.max_size_gb } : {}),
            })
          }
        >
          Change policy
        </button>
        <button type="button" onClick={cleanup}>
          Clean up now
        </button>
      </div>
      {editing && (
        <form
          class="retention"
          aria-label="Retention policy"
          onSubmit={(e) => {
            e.preventDefault();
            void save(editing);
          }}
        >
          <label>
            Policy{' '}
            <select
              value={editing.policy_type}
              onChange={(e) =>
                setEditing({
                  ...editing,
                  policy_type: (e.target as HTMLSelectElement).value as 'age' | 'size' | 'manual',
                })
              }
            >
              <option value="age">By age</option>
              <option value="size">By total size</option>
              <option value="manual">Manual</option>
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              checked={editing.enabled}
              onChange={(e) =>
                setEditing({ ...editing, enabled: (e.target as HTMLInputElement).checked })
              }
            />{' '}
            Run by itself
          </label>
          {editing.policy_type === 'age' && (
            <label>
              Days{' '}
              <input
                type="number"
                min="1"
                value={editing.max_age_days ?? ''}
                onInput={(e) =>
                  setEditing({
                    ...editing,
                    max_age_days: Number((e.target as HTMLInputElement).value),
                  })
                }
              />
            </label>
          )}
          {editing.policy_type === 'size' && (
            <label>
              GB{' '}
              <input
                type="number"
                min="0.1"
                step="0.1"
                value={editing.max_size_gb ?? ''}
                onInput={(e) =>
                  setEditing({
                    ...editing,
                    max_size_gb: Number((e.target as HTMLInputElement).value),
                  })
                }
              />
            </label>
          )}
          <div class="row">
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
            <button type="submit" class="primary">
              Save policy
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
