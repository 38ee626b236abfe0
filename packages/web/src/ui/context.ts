/** What every component of the signed-in app reaches: the connection, the role, the cameras. */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Connection } from '../connection.js';
import type { Role } from '../session.js';
import type { CamerasState, Store } from '../store.js';
import type { PlayerPath } from '../player/choose.js';

export interface AppContextValue {
  conn: Connection;
  role: Role;
  cameras: Store<CamerasState>;
  /** The `?player=` of the page URL, when set. */
  forcedPath: PlayerPath | null;
  /** Shows a short message in the page's live region. */
  announce(message: string, kind?: 'info' | 'error'): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside the signed-in app');
  return value;
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get());
  useEffect(() => {
    setValue(store.get());
    return store.subscribe(() => setValue(store.get()));
  }, [store]);
  return value;
}

/** Date.now(), refreshed every `ms` (for elapsed times). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Runs `load` now and every `ms`; gives its last result or error. */
export function usePoll<T>(
  load: () => Promise<T>,
  ms: number,
  deps: unknown[],
): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(null);
        },
        (e: unknown) => {
          if (live) setError(e instanceof Error ? e.message : String(e));
        },
      );
    void run();
    const timer = ms > 0 ? setInterval(run, ms) : null;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
