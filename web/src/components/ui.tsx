import { type ReactNode, useId, useState } from 'react';
import type { ApiError } from '../api';
import { signOut } from '../auth';

const BADGE_TONES: Record<string, string> = {
  sent: 'ok',
  verified: 'ok',
  enabled: 'ok',
  live: 'ok',
  scheduled: 'info',
  pending: 'info',
  sending: 'info',
  deferred: 'warn',
  delayed: 'warn',
  test: 'warn',
  bounced: 'bad',
  failed: 'bad',
  complained: 'bad',
  hard_bounce: 'bad',
  complaint: 'bad',
  suppressed: 'muted',
  canceled: 'muted',
  disabled: 'muted',
  manual: 'muted',
  found: 'ok',
  sendable: 'ok',
  not_found: 'bad',
  mismatched: 'bad',
  error: 'warn',
  'not sendable': 'muted',
};

/** A status, reason or mode as a coloured label; the text itself carries the meaning, not the colour. */
export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${BADGE_TONES[value] ?? 'muted'}`}>{value.replace(/_/g, ' ')}</span>;
}

/** An API error as the API gave it: its code and message, and its field errors when no field shows them. */
export function ErrorNotice({
  error,
  showFields = true,
}: {
  error: ApiError | undefined;
  showFields?: boolean;
}) {
  if (!error) return null;
  return (
    <div className="notice notice-error" role="alert">
      <p>
        <code className="error-code">{error.code}</code> {error.message}
      </p>
      {showFields && error.fields.length > 0 && (
        <ul>
          {error.fields.map((field) => (
            <li key={field.field + field.message}>
              <code>{field.field}</code>: {field.message}
            </li>
          ))}
        </ul>
      )}
      {error.status === 401 && (
        <p>
          <button type="button" className="link-button" onClick={signOut}>
            Sign in with another key
          </button>
        </p>
      )}
    </div>
  );
}

/** A labelled input whose 422 field error (SPEC §3 `errors[]`) appears right below it. */
export function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: string;
  error?: ApiError;
  hint?: string;
  children: (props: {
    id: string;
    name: string;
    'aria-invalid': boolean;
    'aria-describedby'?: string;
  }) => ReactNode;
}) {
  const id = useId();
  const message = error?.fieldMessage(name);
  const describedBy = [message && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, name, 'aria-invalid': Boolean(message), 'aria-describedby': describedBy })}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {message}
        </p>
      )}
    </div>
  );
}

/** Copies `value` to the clipboard and says so (to screen readers too). */
export function CopyButton({ value, label = 'Copy' }: { value: string; label?: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
    window.setTimeout(() => setCopied(null), 2000);
  };
  return (
    <button type="button" className="button button-small" onClick={copy} aria-live="polite">
      {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Select and copy' : label}
    </button>
  );
}

/**
 * A list as a table in a card: a caption for screen readers, a header cell
 * per column, with `actions` one more for the rows' buttons (named for screen
 * readers only), and the rows as children.
 */
export function DataTable({
  caption,
  columns,
  actions = false,
  className,
  children,
}: {
  caption: string;
  columns: string[];
  actions?: boolean;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap card">
      <table className={className ? `table ${className}` : 'table'}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** What to do when a list is empty. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** A time in the reader's zone, with the exact ISO value as a machine-readable attribute and tooltip. */
export function Time({ value }: { value: string | null }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {dateTime.format(new Date(value))}
    </time>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </header>
  );
}

/** A secret shown once (a new API key token or webhook secret), with a copy button. */
export function OnceSecret({ label, value, onDone }: { label: string; value: string; onDone: () => void }) {
  return (
    <div className="notice notice-secret" role="status">
      <p>
        <strong>{label}</strong> — shown only this once. Store it now: the API never shows it again.
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="secret">
          {value}
        </code>
        <CopyButton value={value} />
      </div>
      <button type="button" className="button button-small" onClick={onDone}>
        I have stored it
      </button>
    </div>
  );
}

/** The end of a paged list: a button for the next page while there is one. */
export function LoadMore({
  list,
  what,
}: {
  list: { loading: boolean; hasMore: boolean; loadMore(): void };
  what: string;
}) {
  if (list.loading) return <Loading what={what} />;
  if (!list.hasMore) return null;
  return (
    <div className="sentinel">
      <button type="button" className="button" onClick={list.loadMore}>
        Load more {what}
      </button>
    </div>
  );
}
