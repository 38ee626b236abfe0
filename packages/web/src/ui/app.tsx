/**
 * The app's root: finds out whether a session exists, shows the sign-in form or the
 * signed-in app (navigation by the URL's hash: #/, #/camera/<device>, #/files, #/admin),
 * owns the connection and the cameras store, and announces messages in a live region.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Connection, type ConnectionState } from '../connection.js';
import { parseForcedPath } from '../player/choose.js';
import { can, currentSession, signOut, type Session } from '../session.js';
import { Store, fromList, withCamera, withRecording, type CamerasState } from '../store.js';
import type {
  CameraStatusUpdateNotification,
  RecordingStatusUpdateNotification,
} from '@camera-service/sdk';
import { Admin } from './admin.js';
import { CameraPage } from './camera-page.js';
import { AppContext, errorText, type AppContextValue } from './context.js';
import { Files } from './files.js';
import { Grid } from './grid.js';
import { SignIn } from './sign-in.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

interface Message {
  text: string;
  kind: 'info' | 'error';
  id: number;
}

function SignedIn(props: { session: Session; onEnded: (notice: string | null) => void }) {
  const { session } = props;
  const hash = useHash();
  const [connState, setConnState] = useState<ConnectionState>('connecting');
  const [messages, setMessages] = useState<Message[]>([]);
  const cameras = useMemo(
    () => new Store<CamerasState>({ loaded: false, cameras: [], recordings: {} }),
    [],
  );
  const announce = (text: string, kind: 'info' | 'error' = 'info') => {
    const id = Date.now() + Math.random();
    setMessages((list) => [...list.slice(-3), { text, kind, id }]);
    setTimeout(() => setMessages((list) => list.filter((m) => m.id !== id)), 8000);
  };
  const conn = useMemo(
    () =>
      new Connection({
        state: (state) => {
          setConnState(state);
          if (state === 'ended') props.onEnded('Your session has ended: sign in again.');
        },
        open: () => {
          conn.call('get_camera_list').then(
            (list) => cameras.set(fromList(list, Date.now())),
            (error: unknown) => announce(errorText(error), 'error'),
          );
        },
        notification: (method, params) => {
          if (method === 'camera_status_update') {
            cameras.set(
              withCamera(cameras.get(), params as CameraStatusUpdateNotification, Date.now()),
            );
          } else if (method === 'recording_status_update') {
            const update = params as RecordingStatusUpdateNotification;
            cameras.set(withRecording(cameras.get(), update, Date.now()));
            if (update.status === 'FAILED') {
              announce(
                `Recording of ${update.device} failed: ${update.reason ?? 'no reason given'}.`,
                'error',
              );
            }
          }
        },
      }),
    [],
  );
  useEffect(() => () => conn.close(), [conn]);
  // The session ends by itself at the credential's expiry, and may end elsewhere (a revoked
  // key): look at its expiry, and once a minute, so the page does not stay half signed in.
  useEffect(() => {
    const check = () =>
      currentSession().then(
        (current) => {
          if (current === null) {
            conn.close();
            props.onEnded('Your session has ended: sign in again.');
          }
        },
        () => undefined,
      );
    const timers: ReturnType<typeof setTimeout>[] = [];
    const every = setInterval(check, 60_000);
    if (session.expires_at !== null) {
      const ms = Date.parse(session.expires_at) - Date.now() + 1000;
      if (ms > 0 && ms < 2 ** 31 - 1) timers.push(setTimeout(check, ms));
    }
    return () => {
      clearInterval(every);
      for (const timer of timers) clearTimeout(timer);
    };
  }, [conn, session.expires_at]);
  const forcedPath = parseForcedPath(new URLSearchParams(location.search).get('player'));
  const value: AppContextValue = { conn, role: session.role, cameras, forcedPath, announce };
  const route = hash.replace(/^#/, '') || '/';
  let page;
  if (route.startsWith('/camera/')) {
    page = <CameraPage device={decodeURIComponent(route.slice('/camera/'.length))} />;
  } else if (route === '/files') page = <Files />;
  else if (route === '/admin' && can(session.role, 'admin')) page = <Admin />;
  else page = <Grid />;
  const link = (href: string, label: string) => (
    <a
      href={href}
      aria-current={`#${route}` === href || (href === '#/' && route === '/') ? 'page' : undefined}
    >
      {label}
    </a>
  );
  return (
    <AppContext.Provider value={value}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <nav aria-label="Main" class="row">
          {link('#/', 'Cameras')}
          {link('#/files', 'Files')}
          {can(session.role, 'admin') && link('#/admin', 'Admin')}
        </nav>
        <div class="row who">
          {connState !== 'open' && (
            <span class="badge warn" role="status">
              {connState === 'connecting' ? 'Reconnecting…' : 'Disconnected'}
            </span>
          )}
          <span class="role" data-role={session.role}>
            Signed in as {session.role}
          </span>
          <button
            type="button"
            onClick={async () => {
              conn.close();
              await signOut().catch(() => undefined);
              props.onEnded('Signed out.');
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <div class="messages" aria-live="polite">
        {messages.map((m) => (
          <p key={m.id} class={`message ${m.kind}`} role={m.kind === 'error' ? 'alert' : undefined}>
            {m.text}
          </p>
        ))}
      </div>
    </AppContext.Provider>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    currentSession().then(setSession, (error: unknown) => {
      setNotice(errorText(error));
      setSession(null);
    });
  }, []);
  if (session === undefined) return <p role="status">Loading…</p>;
  if (session === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }
  return (
    <SignedIn
      session={session}
      onEnded={(text) => {
        setNotice(text);
        setSession(null);
      }}
    />
  );
}
