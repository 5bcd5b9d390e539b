import { type FormEvent, useState } from 'react';
import { get, type Page, post } from '../api';
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
import { Link, navigate, useTitle } from '../router';
import type { Domain } from '../types';

/** The workspace's sending domains, and a form to add one. */
export function DomainsPage() {
  useTitle('Domains');
  const domains = usePagedList((cursor) => get<Page<Domain>>('/v1/domains', { cursor }), []);
  return (
    <>
      <PageHeader title="Domains" />
      <AddDomain />
      <ErrorNotice error={domains.error} />
      {domains.items.length > 0 && (
        <DataTable caption="Sending domains" columns={['Domain', 'Status', 'Added']}>
          {domains.items.map((domain) => (
            <tr key={domain.id}>
              <td data-label="Domain">
                <Link to={`/domains/${domain.id}`} className="strong-link">
                  {domain.name}
                </Link>
              </td>
              <td data-label="Status">
                <Badge value={domain.status} />
              </td>
              <td data-label="Added">
                <Time value={domain.created_at} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {!domains.loading && !domains.error && domains.items.length === 0 && (
        <EmptyState title="No domain yet: add one to start sending.">
          <p>
            Leadpush signs your mail with DKIM. Add the domain you send from, publish the two TXT records it
            shows, then verify it.
          </p>
        </EmptyState>
      )}
      <LoadMore list={domains} what="domains" />
    </>
  );
}

function AddDomain() {
  const [name, setName] = useState('');
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let created: Domain | undefined;
    const ok = await action.run(async () => {
      created = (await post<{ data: Domain }>('/v1/domains', { name })).data;
    });
    if (ok && created) navigate(`/domains/${created.id}`);
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="Add a domain">
      <Field
        label="Domain name"
        name="name"
        error={action.error}
        hint="The domain of your From addresses, e.g. mail.example.com"
      >
        {(props) => (
          <input
            {...props}
            required
            autoComplete="off"
            spellCheck={false}
            placeholder="mail.example.com"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        )}
      </Field>
      <button type="submit" className="button button-primary" disabled={action.busy}>
        Add domain
      </button>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}
