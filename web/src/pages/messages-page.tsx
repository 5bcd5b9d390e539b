import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, get, type Page } from '../api';
import { MessageTable } from '../components/message-table';
import { EmptyState, ErrorNotice, Field, Loading, PageHeader } from '../components/ui';
import { useInterval } from '../hooks';
import { Link, navigate, useLocation, useTitle } from '../router';
import { IN_FLIGHT, MESSAGE_STATUSES, type MessageSummary } from '../types';

const PAGE_SIZE = 50;
const REFRESH_MS = 2000;

interface Filters {
  status: string;
  recipient: string;
  tag: string;
}

interface ListState {
  items: MessageSummary[];
  cursor: string | null;
  loading: boolean;
  error?: ApiError;
}

/** Newest first, pages of next_cursor loaded as the end of the list scrolls into view. */
export function MessagesPage() {
  useTitle('Messages');
  const { query } = useLocation();
  const filters: Filters = {
    status: query.get('status') ?? '',
    recipient: query.get('recipient') ?? '',
    tag: query.get('tag') ?? '',
  };
  const filterKey = `${filters.status}|${filters.recipient}|${filters.tag}`;
  const [list, setList] = useState<ListState>({ items: [], cursor: null, loading: true });
  const generation = useRef(0);

  const load = useCallback(
    (cursor: string | null) => {
      const mine = generation.current;
      setList((state) => ({ ...state, loading: true, error: undefined }));
      get<Page<MessageSummary>>('/v1/messages', {
        ...filters,
        limit: PAGE_SIZE,
        cursor: cursor ?? undefined,
      }).then(
        (page) => {
          if (mine !== generation.current) return;
          setList((state) => ({
            items: cursor ? [...state.items, ...page.data] : page.data,
            cursor: page.next_cursor,
            loading: false,
          }));
        },
        (error: ApiError) => {
          if (mine === generation.current) setList((state) => ({ ...state, loading: false, error }));
        },
      );
    },
    [filterKey],
  );

  useEffect(() => {
    generation.current += 1;
    setList({ items: [], cursor: null, loading: true });
    load(null);
  }, [load]);

  // While messages are on their way, re-read the newest ones and merge them in.
  const inFlight = list.items.some((message) => IN_FLIGHT.includes(message.status));
  const refresh = () => {
    const mine = generation.current;
    const limit = Math.min(100, Math.max(PAGE_SIZE, list.items.length));
    get<Page<MessageSummary>>('/v1/messages', { ...filters, limit }).then(
      (page) => {
        if (mine !== generation.current) return;
        setList((state) => {
          const fresh = new Map(page.data.map((message) => [message.uuid, message]));
          const known = new Set(state.items.map((message) => message.uuid));
          const newer = page.data.filter((message) => !known.has(message.uuid));
          return {
            ...state,
            items: [...newer, ...state.items.map((message) => fresh.get(message.uuid) ?? message)],
          };
        });
      },
      () => undefined,
    );
  };
  useInterval(refresh, REFRESH_MS, inFlight && !list.loading);

  // Infinite scroll: the sentinel after the last row loads the next page when it comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  const canLoadMore = Boolean(list.cursor) && !list.loading && !list.error;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !canLoadMore) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) load(list.cursor);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [canLoadMore, list.cursor, load]);

  const filtered = Boolean(filters.status || filters.recipient || filters.tag);
  return (
    <>
      <PageHeader title="Messages">
        {inFlight && (
          <span className="live" role="status">
            <span className="live-dot" aria-hidden="true" /> Updating while messages are in flight
          </span>
        )}
      </PageHeader>
      <FilterForm key={filterKey} filters={filters} error={list.error} />
      {list.error && <ErrorNotice error={list.error} showFields={false} />}
      {list.items.length > 0 && <MessageTable messages={list.items} />}
      {!list.loading && !list.error && list.items.length === 0 && (
        <EmptyState title={filtered ? 'No message matches these filters.' : 'No message yet.'}>
          {filtered ? (
            <Link to="/">Clear the filters</Link>
          ) : (
            <p>
              Send one with <code>POST /v1/emails</code> (or through the SMTP relay) and it appears here
              within a second. Not set up yet? <Link to="/domains">Add a domain</Link> and a sender address
              first.
            </p>
          )}
        </EmptyState>
      )}
      {list.loading && <Loading what="messages" />}
      <div ref={sentinel} className="sentinel">
        {canLoadMore && (
          <button type="button" className="button" onClick={() => load(list.cursor)}>
            Load older messages
          </button>
        )}
        {!list.cursor && list.items.length > 0 && <p className="muted">That is every message.</p>}
      </div>
    </>
  );
}

function FilterForm({ filters, error }: { filters: Filters; error?: ApiError }) {
  const [draft, setDraft] = useState(filters);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(draft)) if (value.trim()) params.set(name, value.trim());
    const search = params.toString();
    navigate(search ? `/?${search}` : '/');
  };
  return (
    <form className="filters card" onSubmit={submit} role="search" aria-label="Filter messages">
      <Field label="Status" name="status" error={error}>
        {(props) => (
          <select
            {...props}
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.target.value })}
          >
            <option value="">Any status</option>
            {MESSAGE_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Recipient" name="recipient" error={error}>
        {(props) => (
          <input
            {...props}
            type="search"
            placeholder="someone@example.com"
            value={draft.recipient}
            onChange={(e) => setDraft({ ...draft, recipient: e.target.value })}
          />
        )}
      </Field>
      <Field label="Tag" name="tag" error={error}>
        {(props) => (
          <input
            {...props}
            type="search"
            placeholder="password-reset"
            value={draft.tag}
            onChange={(e) => setDraft({ ...draft, tag: e.target.value })}
          />
        )}
      </Field>
      <div className="filters-actions">
        <button type="submit" className="button button-primary">
          Filter
        </button>
      </div>
    </form>
  );
}
