import { type FormEvent, useState } from 'react';
import { del, get, type Page, post } from '../api';
import { signOut, useToken } from '../auth';
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
import { useTitle } from '../router';
import type { ApiKey, CreatedApiKey } from '../types';

/** The workspace's API keys: create one (its token is shown once) and revoke one (at once). */
export function ApiKeysPage() {
  useTitle('API keys');
  const list = usePagedList((cursor) => get<Page<ApiKey>>('/v1/api-keys', { cursor }), []);
  const [created, setCreated] = useState<CreatedApiKey>();
  const token = useToken() ?? '';
  return (
    <>
      <PageHeader title="API keys" />
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          list.reload();
        }}
      />
      {created && (
        <OnceSecret
          label={`Token of ${created.name}`}
          value={created.token}
          onDone={() => setCreated(undefined)}
        />
      )}
      <ErrorNotice error={list.error} />
      {list.items.length > 0 && (
        <DataTable caption="API keys" columns={['Name', 'Token', 'Mode', 'Created']} actions>
          {/* The API names a key by its token's first characters only: that is how this session's key is told. */}
          {list.items.map((key) => (
            <KeyRow
              key={key.id}
              apiKey={key}
              current={token.startsWith(key.token_prefix)}
              onRevoked={list.reload}
            />
          ))}
        </DataTable>
      )}
      {!list.loading && !list.error && list.items.length === 0 && <EmptyState title="No API key." />}
      <LoadMore list={list} what="keys" />
    </>
  );
}

function CreateKey({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'live' | 'test'>('live');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await action.run(async () => {
      onCreated((await post<{ data: CreatedApiKey }>('/v1/api-keys', { name, mode })).data);
      setName('');
    });
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="Create an API key">
      <Field label="Name" name="name" error={action.error} hint="What the key is for, e.g. production server">
        {(props) => <input {...props} required value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Mode" name="mode" error={action.error} hint="A test key's mail is simulated, never sent">
        {(props) => (
          <select {...props} value={mode} onChange={(e) => setMode(e.target.value as 'live' | 'test')}>
            <option value="live">live</option>
            <option value="test">test</option>
          </select>
        )}
      </Field>
      <button type="submit" className="button button-primary" disabled={action.busy}>
        Create key
      </button>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}

function KeyRow({ apiKey, current, onRevoked }: { apiKey: ApiKey; current: boolean; onRevoked: () => void }) {
  const action = useAction();
  const revoke = async () => {
    const warning = current ? ' This is the key you are signed in with: you will be signed out.' : '';
    if (!window.confirm(`Revoke ${apiKey.name}? Requests with it fail at once.${warning}`)) return;
    if (await action.run(() => del(`/v1/api-keys/${apiKey.id}`))) {
      if (current) signOut();
      else onRevoked();
    }
  };
  return (
    <tr>
      <td data-label="Name" className="strong">
        {apiKey.name}
        {current && <span className="muted"> (this session)</span>}
      </td>
      <td data-label="Token">
        <code>{apiKey.token_prefix}…</code>
      </td>
      <td data-label="Mode">
        <Badge value={apiKey.mode === 'test' ? 'test' : 'live'} />
      </td>
      <td data-label="Created">
        <Time value={apiKey.created_at} />
      </td>
      <td className="row-actions">
        <button
          type="button"
          className="button button-small button-danger"
          onClick={revoke}
          disabled={action.busy}
        >
          Revoke <span className="visually-hidden">{apiKey.name}</span>
        </button>
        <ErrorNotice error={action.error} />
      </td>
    </tr>
  );
}
