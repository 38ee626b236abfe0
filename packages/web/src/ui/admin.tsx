/**
 * Admins: API keys (create: shown once; list; revoke) through list_api_keys,
 * create_api_key and revoke_api_key; server info; status and health by component; metrics.
 */
import { useState } from 'preact/hooks';
import type { Role } from '../session.js';
import { formatBytes } from '../store.js';
import { errorText, useApp, usePoll } from './context.js';
import { Confirm, Dialog } from './dialog.js';

interface ApiKey {
  id: string;
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
  last_used_at?: string | null;
}

function Keys() {
  const { conn, announce } = useApp();
  const keys = usePoll(
    () => conn.request('list_api_keys', {}) as Promise<{ keys: ApiKey[]; total: number }>,
    0,
    [],
  );
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  const [toRevoke, setToRevoke] = useState<ApiKey | null>(null);
  const create = async () => {
    try {
      const result = (await conn.request('create_api_key', { name: name.trim(), role })) as {
        name: string;
        key: string;
      };
      setCreated({ name: result.name, key: result.key });
      setName('');
      keys.reload();
    } catch (error) {
      announce(errorText(error), 'error');
    }
  };
  const revoke = async (key: ApiKey) => {
    setToRevoke(null);
    try {
      await conn.request('revoke_api_key', { id: key.id });
      announce(`Key ${key.name} revoked.`);
      keys.reload();
    } catch (error) {
      announce(errorText(error), 'error');
    }
  };
  return (
    <div class="card">
      <h2>API keys</h2>
      <form
        class="row"
        aria-label="Create an API key"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() === '') {
            announce('Give the key a name.', 'error');
            return;
          }
          void create();
        }}
      >
        <label>
          Name <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Role{' '}
          <select
            value={role}
            onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}
          >
            <option value="viewer">viewer</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Create key
        </button>
      </form>
      {keys.error && <p class="error">{keys.error}</p>}
      {keys.data && (
        <table class="keys">
          <caption class="sr-only">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>{key.role}</td>
                <td>{new Date(key.created_at).toLocaleString()}</td>
                <td>{key.last_used_at ? new Date(key.last_used_at).toLocaleString() : '—'}</td>
                <td>
                  {key.revoked_at ? (
                    'revoked'
                  ) : (
                    <button type="button" class="danger" onClick={() => setToRevoke(key)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && (
        <Dialog title={`Key ${created.name} created`} onClose={() => setCreated(null)}>
          <p>Copy it now: it is shown only this once.</p>
          <input
            class="key"
            readOnly
            aria-label="The new API key"
            value={created.key}
            onFocus={(e) => e.currentTarget.select()}
          />
        </Dialog>
      )}
      {toRevoke && (
        <Confirm
          title="Revoke this key?"
          message={`Key ${toRevoke.name} (${toRevoke.role}) stops working at once, also for signed-in pages.`}
          confirmLabel="Revoke"
          onCancel={() => setToRevoke(null)}
          onConfirm={() => void revoke(toRevoke)}
        />
      )}
    </div>
  );
}

function Server() {
  const { conn } = useApp();
  const info = usePoll(() => conn.call('get_server_info'), 0, []);
  const status = usePoll(() => conn.call('get_status'), 5000, []);
  const metrics = usePoll(() => conn.call('get_metrics'), 5000, []);
  const s = status.data;
  const m = metrics.data;
  return (
    <>
      <div class="card">
        <h2>Server</h2>
        {info.error && <p class="error">{info.error}</p>}
        {info.data && (
          <dl class="facts">
            <dt>Name</dt>
            <dd>{info.data.name}</dd>
            <dt>Version</dt>
            <dd>
              {info.data.version} (API {info.data.api_version})
            </dd>
            <dt>Capabilities</dt>
            <dd>{info.data.capabilities.join(', ')}</dd>
            <dt>Formats</dt>
            <dd>{info.data.supported_formats.join(', ')}</dd>
            <dt>Max cameras</dt>
            <dd>{info.data.max_cameras}</dd>
          </dl>
        )}
      </div>
      <div class="card">
        <h2>Status and health</h2>
        {status.error && <p class="error">{status.error}</p>}
        {s && (
          <>
            <p>
              <span class={`status health-${s.status}`}>{s.status}</span> · up{' '}
              {Math.round(s.uptime)} s · version {s.version}
            </p>
            <ul class="components">
              {Object.entries(s.components).map(([name, c]) =>
                c ? (
                  <li key={name}>
                    <strong>{name}</strong>:{' '}
                    <span class={`status health-${c.status}`}>{c.status}</span>
                    {c.critical && ' (critical)'}
                    {c.message && ` — ${c.message}`}
                  </li>
                ) : null,
              )}
            </ul>
          </>
        )}
      </div>
      <div class="card">
        <h2>Metrics</h2>
        {metrics.error && <p class="error">{metrics.error}</p>}
        {m && (
          <dl class="facts">
            <dt>Connections</dt>
            <dd>{m.active_connections}</dd>
            <dt>Requests</dt>
            <dd>
              {m.total_requests} ({m.failed_requests} failed, {(m.error_rate * 100).toFixed(1)}%)
            </dd>
            <dt>Mean response</dt>
            <dd>{m.average_response_time.toFixed(1)} ms</dd>
            <dt>CPU</dt>
            <dd>{m.cpu_usage.percent.toFixed(1)}%</dd>
            <dt>Memory</dt>
            <dd>
              {formatBytes(m.memory_usage.rss_bytes)} resident, heap{' '}
              {formatBytes(m.memory_usage.heap_used_bytes)}
            </dd>
          </dl>
        )}
      </div>
    </>
  );
}

export function Admin() {
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Admin</h1>
      <div class="columns">
        <div>
          <Keys />
        </div>
        <div>
          <Server />
        </div>
      </div>
    </section>
  );
}
