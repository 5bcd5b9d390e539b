import { type FormEvent, useState } from 'react';
import { get, type Page, patch, post } from '../api';
import {
  Badge,
  DataTable,
  EmptyState,
  ErrorNotice,
  Field,
  LoadMore,
  OnceSecret,
  PageHeader,
  Time,
} from '../components/ui';
import { useAction, usePagedList } from '../hooks';
import { Link, useTitle } from '../router';
import { type CreatedWebhook, type Webhook, WEBHOOK_EVENTS } from '../types';

/** Webhook endpoints (SPEC §12): add one (its signing secret is shown once), enable or disable it. */
export function WebhooksPage() {
  useTitle('Webhooks');
  const list = usePagedList((cursor) => get<Page<Webhook>>('/v1/webhooks', { cursor }), []);
  const [created, setCreated] = useState<CreatedWebhook>();
  return (
    <>
      <PageHeader title="Webhooks" />
      <p className="lead">
        Leadpush posts every message event to these URLs, signed as the Standard Webhooks specification
        describes (headers <code>webhook-id</code>, <code>webhook-timestamp</code>,{' '}
        <code>webhook-signature</code>).
      </p>
      <AddWebhook
        onCreated={(webhook) => {
          setCreated(webhook);
          list.reload();
        }}
      />
      {created && (
        <OnceSecret
          label={`Signing secret of ${created.url}`}
          value={created.secret}
          onDone={() => setCreated(undefined)}
        />
      )}
      <ErrorNotice error={list.error} />
      {list.items.length > 0 && (
        <DataTable caption="Webhook endpoints" columns={['URL', 'Events', 'State']} actions>
          {list.items.map((webhook) => (
            <WebhookRow key={webhook.id} webhook={webhook} onChange={list.reload} />
          ))}
        </DataTable>
      )}
      {!list.loading && !list.error && list.items.length === 0 && (
        <EmptyState title="No webhook endpoint yet.">
          <p>
            Add a URL of your app to be told when a message is sent, deferred, bounced, complained about or
            failed.
          </p>
        </EmptyState>
      )}
      <LoadMore list={list} what="endpoints" />
    </>
  );
}

export function eventsLabel(events: string[]): string {
  return events.length === WEBHOOK_EVENTS.length ? 'All events' : events.join(', ');
}

/** Checkboxes of the event types; all of them checked is what a new endpoint gets by default. */
export function EventPicker({ value, onChange }: { value: string[]; onChange: (events: string[]) => void }) {
  const toggle = (type: string) =>
    onChange(
      value.includes(type)
        ? value.filter((t) => t !== type)
        : WEBHOOK_EVENTS.filter((t) => t === type || value.includes(t)),
    );
  return (
    <fieldset className="event-picker">
      <legend>Events</legend>
      <div className="checks">
        {WEBHOOK_EVENTS.map((type) => (
          <label key={type} className="check">
            <input type="checkbox" checked={value.includes(type)} onChange={() => toggle(type)} />
            {type}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function AddWebhook({ onCreated }: { onCreated: (webhook: CreatedWebhook) => void }) {
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(WEBHOOK_EVENTS);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = events.length === WEBHOOK_EVENTS.length ? { url } : { url, events };
    await action.run(async () => {
      onCreated((await post<{ data: CreatedWebhook }>('/v1/webhooks', body)).data);
      setUrl('');
      setEvents(WEBHOOK_EVENTS);
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Add a webhook endpoint">
      <div className="inline-form">
        <Field label="Endpoint URL" name="url" error={action.error}>
          {(props) => (
            <input
              {...props}
              type="url"
              required
              placeholder="https://example.com/webhooks/leadpush"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button button-primary" disabled={action.busy}>
          Add endpoint
        </button>
      </div>
      <details className="more">
        <summary>Choose events ({eventsLabel(events)})</summary>
        <EventPicker value={events} onChange={setEvents} />
        {action.error?.fieldMessage('events') && (
          <p className="field-error">{action.error.fieldMessage('events')}</p>
        )}
      </details>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}

function WebhookRow({ webhook, onChange }: { webhook: Webhook; onChange: () => void }) {
  const action = useAction();
  const toggle = async () => {
    if (await action.run(() => patch(`/v1/webhooks/${webhook.id}`, { enabled: !webhook.enabled })))
      onChange();
  };
  return (
    <tr data-testid="webhook-row">
      <td data-label="URL" className="break">
        <Link to={`/webhooks/${webhook.id}`} className="strong-link">
          {webhook.url}
        </Link>
        <div className="muted small">
          Added <Time value={webhook.created_at} />
        </div>
      </td>
      <td data-label="Events">{eventsLabel(webhook.events)}</td>
      <td data-label="State">
        <Badge value={webhook.enabled ? 'enabled' : 'disabled'} />
      </td>
      <td className="row-actions">
        <button type="button" className="button button-small" onClick={toggle} disabled={action.busy}>
          {webhook.enabled ? 'Disable' : 'Enable'} <span className="visually-hidden">{webhook.url}</span>
        </button>
        <ErrorNotice error={action.error} />
      </td>
    </tr>
  );
}
