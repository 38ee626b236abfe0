/** The sign-in form: a JWT or an API key, sent once in a POST body (never in a URL). */
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../session.js';
import { errorText } from './context.js';

export function SignIn(props: { onSignedIn: (session: Session) => void; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="sign-in" id="main">
      <h1>Camera service</h1>
      {props.notice && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <form
        aria-label="Sign in"
        onSubmit={async (e) => {
          e.preventDefault();
          if (token.trim() === '') {
            setError('Enter a JWT or an API key.');
            return;
          }
          setBusy(true);
          setError(null);
          try {
            const session = await signIn(token.trim());
            setToken('');
            props.onSignedIn(session);
          } catch (err) {
            setError(errorText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="token">JWT or API key</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          value={token}
          aria-describedby={error ? 'sign-in-error' : 'token-hint'}
          aria-invalid={error ? true : undefined}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
        />
        <p id="token-hint" class="hint">
          Make one with <code>camera-service token --role operator</code> or{' '}
          <code>camera-service keys create</code>.
        </p>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
