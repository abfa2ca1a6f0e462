import { BaasError } from '@selfbaas/sdk';
import { type FormEvent, useState } from 'react';
import { useSession } from '../session.js';
import { ErrorMessage } from '../ui.js';

function friendly(err: unknown, mode: 'password' | 'key'): unknown {
  if (!(err instanceof BaasError)) return err;
  if (err.code === 'INVALID_CREDENTIALS') return new Error('Wrong email or password.');
  if (mode === 'key' && err.statusCode === 401) return new Error('This service key is not valid (or has been revoked).');
  return err;
}

/** Admin password, or a service key (the bootstrap SERVICE_API_KEY or one created under API keys). */
export function SignInPage() {
  const session = useSession();
  const [mode, setMode] = useState<'password' | 'key'>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'password') await session.signInWithPassword(email, password);
      else await session.signInWithKey(apiKey.trim());
    } catch (err) {
      setError(friendly(err, mode));
      setBusy(false);
    }
  }
  return (
    <main className="signin" id="main">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">selfbaas admin</h1>
        <div className="tabs" role="tablist" aria-label="Sign-in method">
          <button type="button" role="tab" aria-selected={mode === 'password'} className={mode === 'password' ? 'active' : ''} onClick={() => setMode('password')}>
            Admin password
          </button>
          <button type="button" role="tab" aria-selected={mode === 'key'} className={mode === 'key' ? 'active' : ''} onClick={() => setMode('key')}>
            Service key
          </button>
        </div>
        {mode === 'password' ? (
          <>
            <label>
              Email
              <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label>
              Password
              <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            </label>
          </>
        ) : (
          <label>
            Service key
            <input type="password" name="apiKey" autoComplete="off" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
          </label>
        )}
        <ErrorMessage error={error} title="Sign-in failed" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
