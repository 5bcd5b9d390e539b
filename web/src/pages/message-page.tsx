import { type FormEvent, useState } from 'react';
import { get, patch, post } from '../api';
import { TimelineEvent } from '../components/timeline';
import { Badge, CopyButton, ErrorNotice, Field, Loading, PageHeader, Time } from '../components/ui';
import { useAction, useInterval, useResource } from '../hooks';
import { Link, useTitle } from '../router';
import { IN_FLIGHT, type Message } from '../types';

/** Everything GET /v1/messages/:uuid answers, its timeline, and the actions its status allows. */
export function MessagePage({ uuid }: { uuid: string }) {
  const message = useResource(
    () => get<{ data: Message }>(`/v1/messages/${encodeURIComponent(uuid)}`).then((r) => r.data),
    [uuid],
  );
  useTitle(message.data ? message.data.subject : 'Message');
  useInterval(
    () => message.reload(true),
    2000,
    Boolean(message.data && IN_FLIGHT.includes(message.data.status)),
  );

  if (message.error && !message.data) {
    return (
      <>
        <PageHeader title="Message" />
        <ErrorNotice error={message.error} />
        <Link to="/">Back to the messages</Link>
      </>
    );
  }
  if (!message.data) return <Loading what="the message" />;
  const m = message.data;
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">Messages</Link> <span aria-hidden="true">/</span> <span>{m.recipient}</span>
      </nav>
      <PageHeader title={m.subject}>
        <Badge value={m.status} />
        {m.test && <Badge value="test" />}
      </PageHeader>
      <Actions message={m} onChange={(updated) => (updated ? message.reload(true) : undefined)} />
      <div className="columns">
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="details">
            <dt>UUID</dt>
            <dd className="mono">
              {m.uuid} <CopyButton value={m.uuid} />
            </dd>
            <dt>Recipient</dt>
            <dd>
              {m.recipient} <span className="muted">({m.type})</span>
            </dd>
            <dt>From</dt>
            <dd>{m.from}</dd>
            <dt>Subject</dt>
            <dd>{m.subject}</dd>
            <dt>Status</dt>
            <dd>
              <Badge value={m.status} />
            </dd>
            <dt>Tag</dt>
            <dd>{m.tag ?? <span className="muted">—</span>}</dd>
            <dt>Contact</dt>
            <dd className="mono">{m.contact_id ?? <span className="muted">not a contact</span>}</dd>
            <dt>Created</dt>
            <dd>
              <Time value={m.created_at} />
            </dd>
            <dt>Scheduled for</dt>
            <dd>
              <Time value={m.scheduled_at} />
            </dd>
            <dt>Source</dt>
            <dd>{m.source === 'smtp' ? 'SMTP relay' : 'API'}</dd>
            <dt>Test mode</dt>
            <dd>{m.test ? 'yes — simulated, never sent over SMTP' : 'no'}</dd>
          </dl>
          <h3>Attachments</h3>
          {m.attachments.length === 0 ? (
            <p className="muted">No attachment.</p>
          ) : (
            <ul className="attachments">
              {m.attachments.map((file, i) => (
                <li key={`${i}-${file.filename}`}>
                  <span className="strong">{file.filename}</span>{' '}
                  <span className="muted">
                    {file.content_type} · {formatBytes(file.size)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card timeline-card" aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <ol className="timeline" data-testid="timeline">
            {m.events.map((event, i) => (
              <TimelineEvent key={`${i}-${event.type}-${event.at}`} event={event} />
            ))}
          </ol>
        </section>
      </div>
    </>
  );
}

function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} kB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}

/** A `datetime-local` value (the reader's zone) as the ISO 8601 UTC time (`…Z`) the API takes. */
function toIsoTime(local: string): string {
  return new Date(local).toISOString();
}

function Actions({ message, onChange }: { message: Message; onChange: (updated: boolean) => void }) {
  const action = useAction();
  const [when, setWhen] = useState('');
  if (message.status !== 'scheduled' && message.status !== 'suppressed' && message.status !== 'failed')
    return null;

  const cancel = async () => {
    if (!window.confirm('Cancel this scheduled message? It will never be sent.')) return;
    onChange(await action.run(() => post(`/v1/messages/${message.uuid}/cancel`)));
  };
  const reschedule = async (event: FormEvent) => {
    event.preventDefault();
    onChange(
      await action.run(() =>
        patch(`/v1/messages/${message.uuid}`, { scheduled_at: when ? toIsoTime(when) : '' }),
      ),
    );
  };
  const retry = async () => onChange(await action.run(() => post(`/v1/messages/${message.uuid}/retry`)));

  return (
    <section className="card actions" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      {message.status === 'scheduled' ? (
        <div className="actions-row">
          <form className="inline-form" onSubmit={reschedule}>
            <Field label="New time" name="scheduled_at" error={action.error}>
              {(props) => (
                <input
                  {...props}
                  type="datetime-local"
                  required
                  value={when}
                  onChange={(e) => setWhen(e.target.value)}
                />
              )}
            </Field>
            <button type="submit" className="button" disabled={action.busy}>
              Reschedule
            </button>
          </form>
          <button type="button" className="button button-danger" onClick={cancel} disabled={action.busy}>
            Cancel message
          </button>
        </div>
      ) : (
        <div className="actions-row">
          <p className="muted">
            {message.status === 'suppressed'
              ? 'Held back: the recipient is on the suppression list. Remove the address from Suppressions, then retry.'
              : 'Delivery was given up after the last attempt. Retry delivers it afresh.'}
          </p>
          <button type="button" className="button button-primary" onClick={retry} disabled={action.busy}>
            Retry delivery
          </button>
        </div>
      )}
      <ErrorNotice error={action.error} showFields={false} />
    </section>
  );
}
