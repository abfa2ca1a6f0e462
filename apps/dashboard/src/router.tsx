import { useQueryClient } from '@tanstack/react-query';
import { createRootRoute, createRoute, createRouter, Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useState } from 'react';
import { ApiKeysPage } from './pages/api-keys.js';
import { AuthProvidersPage } from './pages/auth-providers.js';
import { CollectionPage } from './pages/collection.js';
import { CollectionsPage } from './pages/collections.js';
import { EmailPage } from './pages/email.js';
import { FunctionPage } from './pages/function.js';
import { FunctionsPage } from './pages/functions.js';
import { OverviewPage } from './pages/overview.js';
import { SignInPage } from './pages/sign-in.js';
import { BucketPage, StoragePage } from './pages/storage.js';
import { UsersPage } from './pages/users.js';
import { useSession } from './session.js';
import { ErrorBoundary, ErrorMessage, Loading } from './ui.js';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/collections', label: 'Collections' },
  { to: '/users', label: 'Users' },
  { to: '/storage', label: 'Storage' },
  { to: '/functions', label: 'Functions' },
  { to: '/email', label: 'Email' },
  { to: '/keys', label: 'API keys' },
  { to: '/sign-in-providers', label: 'Sign-in providers' },
] as const;

function Layout() {
  const session = useSession();
  const { who } = session;
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const path = useRouterState({ select: (s) => s.location.pathname });
  const [menuOpen, setMenuOpen] = useState(false);
  if (who.kind === 'loading') return <Loading what="session" />;
  if (who.kind === 'none') return <SignInPage />;
  const label = who.kind === 'admin' ? who.email : 'service key';
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button type="button" className="ghost menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          ☰ <span className="sr-only">Menu</span>
        </button>
        <span className="brand">selfbaas</span>
        <span className="muted who">{label}</span>
        <button
          type="button"
          onClick={() => {
            void session.signOut().then(() => {
              queryClient.clear();
              return navigate({ to: '/' });
            });
          }}
        >
          Sign out
        </button>
      </header>
      <nav id="nav" className={menuOpen ? 'sidebar open' : 'sidebar'} aria-label="Sections">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link to={n.to} activeOptions={{ exact: n.to === '/' }} activeProps={{ className: 'active', 'aria-current': 'page' }} onClick={() => setMenuOpen(false)}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={path}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}

const rootRoute = createRootRoute({
  component: Layout,
  errorComponent: ({ error }) => <ErrorMessage error={error} title="This page failed" />,
  notFoundComponent: () => (
    <div className="page">
      <h1>Not found</h1>
      <p>
        There is no such page. <Link to="/">Back to the overview</Link>
      </p>
    </div>
  ),
});

const routes = [
  createRoute({ getParentRoute: () => rootRoute, path: '/', component: OverviewPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/collections', component: CollectionsPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/collections/$name', component: CollectionPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/users', component: UsersPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/storage', component: StoragePage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/storage/$bucket', component: BucketPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/functions', component: FunctionsPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/functions/$name', component: FunctionPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/email', component: EmailPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/keys', component: ApiKeysPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/sign-in-providers', component: AuthProvidersPage }),
];

export const router = createRouter({ routeTree: rootRoute.addChildren(routes), basepath: '/admin' });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
