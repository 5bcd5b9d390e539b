import { type FormEvent, useState } from 'react';
import { request } from '../api';
import { signIn } from '../auth';
import { ErrorNotice, Field } from '../components/ui';
import { useAction } from '../hooks';
import { useTitle } from '../router';

/**
 * Sign-in with a workspace API key. The key is checked with a real API call
 * (GET /v1/api-keys) before it is kept, so a wrong key shows the API's own 401.
 */
export function SignInPage() {
  useTitle('Sign in');
  const [token, setToken] = useState('');
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const key = token.trim();
    const ok = await action.run(() => request('GET', '/v1/api-keys', { query: { limit: 1 }, token: key }));
    if (ok) signIn(key);
  };

  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={submit} aria-labelledby="sign-in-title">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          Leadpush
        </div>
        <h1 id="sign-in-title">Sign in to your workspace</h1>
        <p className="muted">
          Use one of the workspace's API keys. It stays in this tab only and is forgotten when you sign out or
          close it.
        </p>
        <Field label="API key" name="token" hint="Starts with lp_ (live) or lp_test_ (test mode).">
          {(props) => (
            <input
              {...props}
              type="password"
              autoComplete="off"
              spellCheck={false}
              required
              value={token}
              onChange={(event) => setToken(event.target.value)}
            />
          )}
        </Field>
        <ErrorNotice error={action.error} />
        <button type="submit" className="button button-primary button-block" disabled={action.busy}>
          {action.busy ? 'Checking…' : 'Sign in'}
        </button>
        <p className="hint">
          No key yet? An operator creates the first one with{' '}
          <code>POST /admin/v1/workspaces/:id/api-keys</code>.
        </p>
      </form>
    </main>
  );
}
