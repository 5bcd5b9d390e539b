import { type FormEvent, useState } from 'react';
import { del, get, getAll, type Page, post } from '../api';
import {
  Badge,
  DataTable,
  EmptyState,
  ErrorNotice,
  Field,
  LoadMore,
  PageHeader,
  Time,
} from '../components/ui';
import { useAction, usePagedList } from '../hooks';
import { useTitle } from '../router';
import type { MessageSummary, Suppression } from '../types';

/**
 * The suppression list. Removing an address can also release the mail held
 * back for it, the way SPEC §9 describes: DELETE /v1/suppressions/:email, then
 * POST /v1/messages/:uuid/retry for each of its `suppressed` messages.
 */
export function SuppressionsPage() {
  useTitle('Suppressions');
  const list = usePagedList((cursor) => get<Page<Suppression>>('/v1/suppressions', { cursor }), []);
  const [notice, setNotice] = useState<string>();
  return (
    <>
      <PageHeader title="Suppressions" />
      <p className="lead">
        Nothing is sent to these addresses: their messages end <Badge value="suppressed" />. Hard bounces and
        complaints add addresses here by themselves.
      </p>
      <AddSuppression
        onAdded={(email) => {
          setNotice(`${email} is suppressed.`);
          list.reload();
        }}
      />
      {notice && (
        <p className="notice notice-ok" role="status">
          {notice}
        </p>
      )}
      <ErrorNotice error={list.error} />
      {list.items.length > 0 && (
        <DataTable caption="Suppressed addresses" columns={['Address', 'Reason', 'Since']} actions>
          {list.items.map((suppression) => (
            <SuppressionRow
              key={suppression.email}
              suppression={suppression}
              onRemoved={(text) => {
                setNotice(text);
                list.reload();
              }}
            />
          ))}
        </DataTable>
      )}
      {!list.loading && !list.error && list.items.length === 0 && (
        <EmptyState title="No suppressed address.">
          <p>Every recipient can be mailed. Add an address above to stop sending to it.</p>
        </EmptyState>
      )}
      <LoadMore list={list} what="addresses" />
    </>
  );
}

function AddSuppression({ onAdded }: { onAdded: (email: string) => void }) {
  const [email, setEmail] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => post('/v1/suppressions', { email }))) {
      onAdded(email.trim().toLowerCase());
      setEmail('');
    }
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="Suppress an address">
      <Field label="Address to suppress" name="email" error={action.error}>
        {(props) => (
          <input
            {...props}
            type="email"
            required
            placeholder="unsubscribed@example.com"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        )}
      </Field>
      <button type="submit" className="button button-primary" disabled={action.busy}>
        Suppress
      </button>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}

function SuppressionRow({
  suppression,
  onRemoved,
}: {
  suppression: Suppression;
  onRemoved: (text: string) => void;
}) {
  const action = useAction();
  const remove = async (release: boolean) => {
    let released = 0;
    const ok = await action.run(async () => {
      await del(`/v1/suppressions/${encodeURIComponent(suppression.email)}`);
      if (!release) return;
      const held = await getAll<MessageSummary>('/v1/messages', {
        recipient: suppression.email,
        status: 'suppressed',
      });
      for (const message of held) {
        await post(`/v1/messages/${message.uuid}/retry`);
        released += 1;
      }
    });
    if (ok) {
      const what = release
        ? ` ${released} held message${released === 1 ? '' : 's'} released for delivery.`
        : '';
      onRemoved(`${suppression.email} is no longer suppressed.${what}`);
    }
  };
  return (
    <tr data-testid="suppression-row">
      <td data-label="Address" className="strong">
        {suppression.email}
      </td>
      <td data-label="Reason">
        <Badge value={suppression.reason} />
      </td>
      <td data-label="Since">
        <Time value={suppression.created_at} />
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="button button-small"
          onClick={() => remove(false)}
          disabled={action.busy}
        >
          Remove <span className="visually-hidden">{suppression.email}</span>
        </button>
        <button
          type="button"
          className="button button-small"
          onClick={() => remove(true)}
          disabled={action.busy}
        >
          Remove and release held mail <span className="visually-hidden">for {suppression.email}</span>
        </button>
        <ErrorNotice error={action.error} />
      </td>
    </tr>
  );
}
