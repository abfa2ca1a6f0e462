import { type BaasClient, createClient, type TokenStore } from '@selfbaas/sdk';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from 'react';

/**
 * The dashboard's one SDK client. Credentials live in sessionStorage (closing the tab signs
 * the operator out): the SDK keeps an admin's session there, and a service key is kept
 * beside it. Every call of every page goes through this client.
 */
const KEY_STORAGE = 'selfbaas.admin.apiKey';
const SESSION_STORAGE = 'selfbaas.admin.session';

function tabStore(): TokenStore {
  return window.sessionStorage;
}

function makeClient(apiKey?: string): BaasClient {
  return createClient({ url: window.location.origin, apiKey, storage: apiKey ? undefined : tabStore(), auth: { storageKey: SESSION_STORAGE } });
}

/** A client that keeps nothing (memory store): used to check credentials before adopting them. */
function probeClient(apiKey?: string): BaasClient {
  return createClient({ url: window.location.origin, apiKey, retry: { retries: 0 } });
}

type Who = { kind: 'key' } | { kind: 'admin'; email: string } | { kind: 'none' } | { kind: 'loading' };

interface Session {
  client: BaasClient;
  who: Who;
  /** Signs in with an admin's password; refuses (403 ROLE_REQUIRED-like Error) an account without the admin role. */
  signInWithPassword(email: string, password: string): Promise<void>;
  /** Uses a service key, once an admin-only call has proved it. */
  signInWithKey(apiKey: string): Promise<void>;
  signOut(): Promise<void>;
}

export class NotAdminError extends Error {
  override name = 'NotAdminError';
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_STORAGE) ?? undefined);
  const client = useMemo(() => makeClient(apiKey), [apiKey]);
  const [sessionWho, setWho] = useState<Who>({ kind: 'loading' });
  const who = useMemo<Who>(() => (apiKey ? { kind: 'key' } : sessionWho), [apiKey, sessionWho]);

  useEffect(() => {
    if (apiKey) return;
    let live = true;
    void client.auth.getSession().then((s) => {
      if (live) setWho(s ? { kind: 'admin', email: s.user.email } : { kind: 'none' });
    });
    const stop = client.auth.onAuthStateChange((_event, s) => setWho(s ? { kind: 'admin', email: s.user.email } : { kind: 'none' }));
    return () => {
      live = false;
      stop();
    };
  }, [client, apiKey]);

  const value = useMemo<Session>(
    () => ({
      client,
      who,
      async signInWithPassword(email, password) {
        const probe = probeClient();
        const session = await probe.auth.signInWithPassword({ email, password });
        if (!session.user.roles.includes('admin')) {
          await probe.auth.signOut();
          throw new NotAdminError('This account is not an admin. Ask an admin to give it the admin role, or use a service key.');
        }
        await client.auth.setSession({ user: session.user, accessToken: session.accessToken, refreshToken: session.refreshToken, expiresIn: session.expiresIn });
      },
      async signInWithKey(key) {
        await probeClient(key).admin.apiKeys.list();
        sessionStorage.setItem(KEY_STORAGE, key);
        setApiKey(key);
      },
      async signOut() {
        if (apiKey) {
          sessionStorage.removeItem(KEY_STORAGE);
          setApiKey(undefined);
        } else {
          await client.auth.signOut();
        }
      },
    }),
    [client, who, apiKey],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useClient(): BaasClient {
  return useSession().client;
}
