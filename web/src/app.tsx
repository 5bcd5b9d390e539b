import { type ReactNode, useEffect, useRef } from 'react';
import { signOut, useToken } from './auth';
import { Link, match, useLocation } from './router';
import { isTestToken } from './session';
import { ApiKeysPage } from './pages/api-keys-page';
import { ContactsPage } from './pages/contacts-page';
import { DomainPage } from './pages/domain-page';
import { DomainsPage } from './pages/domains-page';
import { MessagePage } from './pages/message-page';
import { MessagesPage } from './pages/messages-page';
import { NotFoundPage } from './pages/not-found-page';
import { SignInPage } from './pages/sign-in-page';
import { SuppressionsPage } from './pages/suppressions-page';
import { WebhookPage } from './pages/webhook-page';
import { WebhooksPage } from './pages/webhooks-page';

const NAV = [
  { to: '/', label: 'Messages', section: 'messages' },
  { to: '/domains', label: 'Domains', section: 'domains' },
  { to: '/contacts', label: 'Contacts', section: 'contacts' },
  { to: '/suppressions', label: 'Suppressions', section: 'suppressions' },
  { to: '/webhooks', label: 'Webhooks', section: 'webhooks' },
  { to: '/api-keys', label: 'API keys', section: 'api-keys' },
];

const ROUTES: { pattern: string; render: (params: Record<string, string>) => ReactNode }[] = [
  { pattern: '/', render: () => <MessagesPage /> },
  { pattern: '/messages/:uuid', render: ({ uuid }) => <MessagePage uuid={uuid} /> },
  { pattern: '/domains', render: () => <DomainsPage /> },
  { pattern: '/domains/:id', render: ({ id }) => <DomainPage id={id} /> },
  { pattern: '/contacts', render: () => <ContactsPage /> },
  { pattern: '/suppressions', render: () => <SuppressionsPage /> },
  { pattern: '/webhooks', render: () => <WebhooksPage /> },
  { pattern: '/webhooks/:id', render: ({ id }) => <WebhookPage id={id} /> },
  { pattern: '/api-keys', render: () => <ApiKeysPage /> },
];

function route(path: string): ReactNode {
  for (const { pattern, render } of ROUTES) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return <NotFoundPage />;
}

const sectionOf = (path: string) =>
  path === '/' || path.startsWith('/messages') ? 'messages' : path.split('/')[1];

export function App() {
  const token = useToken();
  const { path } = useLocation();
  const main = useRef<HTMLElement>(null);

  // After a client-side navigation, move focus to the new page (as a page load would).
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [path]);

  if (!token) return <SignInPage />;
  const section = sectionOf(path);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {isTestToken(token) && (
        <div className="test-banner" role="status">
          <strong>Test mode</strong> — signed in with a test key: messages are simulated, nothing is sent over
          SMTP.
        </div>
      )}
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Leadpush
        </Link>
        <nav aria-label="Main" className="nav">
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} aria-current={item.section === section ? 'page' : undefined}>
              {item.label}
            </Link>
          ))}
        </nav>
        <button type="button" className="button button-ghost sign-out" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route(path)}
      </main>
    </div>
  );
}
