import { createContext, type ReactNode, useContext, useMemo, useState } from 'react';
import { type Client, createClient, type Credentials } from './api/client.js';

/** Credentials live in sessionStorage: closing the tab signs the operator out. */
const STORAGE_KEY = 'selfbaas.admin.credentials';

function load(): Credentials | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Credentials) : undefined;
  } catch {
    return undefined;
  }
}

function save(credentials: Credentials | null): void {
  if (credentials) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  else sessionStorage.removeItem(STORAGE_KEY);
}

interface Session {
  client: Client;
  signedIn: boolean;
  /** Who is signed in, for the header. */
  label: string;
}

const SessionContext = createContext<Session | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [credentials, setCredentials] = useState<Credentials | undefined>(load);
  const client = useMemo(
    () =>
      createClient({
        url: window.location.origin,
        credentials: load(),
        onCredentials: (c) => {
          save(c);
          setCredentials(c ?? undefined);
        },
      }),
    [],
  );
  const value = useMemo<Session>(
    () => ({
      client,
      signedIn: credentials !== undefined,
      label: credentials?.kind === 'password' ? credentials.email : credentials ? 'service key' : '',
    }),
    [client, credentials],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useClient(): Client {
  return useSession().client;
}
