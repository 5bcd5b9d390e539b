import { type FormEvent, useState } from 'react';
import { del, get, type Page, patch } from '../api';
import { Badge, EmptyState, ErrorNotice, Field, LoadMore, Loading, PageHeader, Time } from '../components/ui';
import { useAction, usePagedList, useResource } from '../hooks';
import { Link, navigate, useTitle } from '../router';
import type { Webhook, WebhookDelivery } from '../types';
import { EventPicker, eventsLabel } from './webhooks-page';

/** Delivery attempts shown at first; older ones load on demand. */
const RECENT = 20;

/** One endpoint: its settings, and its recent delivery attempts with the status codes it answered. */
export function WebhookPage({ id }: { id: string }) {
  const webhook = useResource(
    () => get<{ data: Webhook }>(`/v1/webhooks/${encodeURIComponent(id)}`).then((r) => r.data),
    [id],
  );
  const deliveries = usePagedList(
    (cursor) =>
      get<Page<WebhookDelivery>>(`/v1/webhooks/${encodeURIComponent(id)}/deliveries`, {
        limit: RECENT,
        cursor,
      }),
    [id],
  );
  const action = useAction();
  useTitle(webhook.data?.url ?? 'Webhook');

  if (webhook.error && !webhook.data) {
    return (
      <>
        <PageHeader title="Webhook" />
        <ErrorNotice error={webhook.error} />
        <Link to="/webhooks">Back to the webhooks</Link>
      </>
    );
  }
  if (!webhook.data) return <Loading what="the webhook" />;
  const w = webhook.data;
  const toggle = async () => {
    if (await action.run(() => patch(`/v1/webhooks/${w.id}`, { enabled: !w.enabled }))) webhook.reload(true);
  };
  const remove = async () => {
    if (!window.confirm(`Delete the endpoint ${w.url}? It receives no event afterwards.`)) return;
    if (await action.run(() => del(`/v1/webhooks/${w.id}`))) navigate('/webhooks');
  };

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/webhooks">Webhooks</Link> <span aria-hidden="true">/</span>{' '}
        <span className="break">{w.url}</span>
      </nav>
      <PageHeader title="Webhook endpoint">
        <Badge value={w.enabled ? 'enabled' : 'disabled'} />
        <button type="button" className="button" onClick={toggle} disabled={action.busy}>
          {w.enabled ? 'Disable' : 'Enable'}
        </button>
        <button type="button" className="button button-danger" onClick={remove} disabled={action.busy}>
          Delete
        </button>
      </PageHeader>
      <ErrorNotice error={action.error} />
      {!w.enabled && (
        <p className="notice notice-warn">
          Disabled: no event is posted to it. An endpoint that answers <code>410 Gone</code> is disabled by
          itself.
        </p>
      )}
      <EditWebhook webhook={w} onSaved={() => webhook.reload(true)} />
      <section className="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Recent deliveries</h2>
        <ErrorNotice error={deliveries.error} />
        {deliveries.items.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Delivery attempts, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Attempt</th>
                  <th scope="col">Answer</th>
                  <th scope="col">At</th>
                  <th scope="col">Next attempt</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.items.map((delivery) => (
                  <tr key={delivery.id}>
                    <td data-label="Event">
                      <code>{delivery.type}</code>
                      <div className="muted small mono">{delivery.event_id}</div>
                    </td>
                    <td data-label="Attempt">{delivery.attempt}</td>
                    <td data-label="Answer">
                      <StatusCode code={delivery.status_code} />
                      {delivery.error && <div className="field-error">{delivery.error}</div>}
                    </td>
                    <td data-label="At">
                      <Time value={delivery.at} />
                    </td>
                    <td data-label="Next attempt">
                      <Time value={delivery.next_attempt_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {!deliveries.loading && !deliveries.error && deliveries.items.length === 0 && (
          <EmptyState title="Nothing delivered yet.">
            <p>
              Events of messages sent from now on are posted here; an endpoint gets no event older than
              itself.
            </p>
          </EmptyState>
        )}
        <LoadMore list={deliveries} what="deliveries" />
      </section>
    </>
  );
}

function StatusCode({ code }: { code: number | null }) {
  if (code === null) return <span className="badge badge-bad">no answer</span>;
  const tone = code >= 200 && code < 300 ? 'ok' : code >= 500 || code === 410 ? 'bad' : 'warn';
  return <span className={`badge badge-${tone}`}>HTTP {code}</span>;
}

function EditWebhook({ webhook, onSaved }: { webhook: Webhook; onSaved: () => void }) {
  const [url, setUrl] = useState(webhook.url);
  const [events, setEvents] = useState(webhook.events);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => patch(`/v1/webhooks/${webhook.id}`, { url, events }))) onSaved();
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <Field label="Endpoint URL" name="url" error={action.error}>
        {(props) => (
          <input {...props} type="url" required value={url} onChange={(e) => setUrl(e.target.value)} />
        )}
      </Field>
      <details className="more">
        <summary>Events ({eventsLabel(events)})</summary>
        <EventPicker value={events} onChange={setEvents} />
      </details>
      {action.error?.fieldMessage('events') && (
        <p className="field-error">{action.error.fieldMessage('events')}</p>
      )}
      <p className="muted small">
        Added <Time value={webhook.created_at} />. The signing secret was shown once, when the endpoint was
        added.
      </p>
      <button type="submit" className="button button-primary" disabled={action.busy}>
        Save
      </button>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}
