import { type FormEvent, useState } from 'react';
import { get, getAll, type Page, post } from '../api';
import { ContactRow, RouteSelect } from '../components/contact-row';
import { DataTable, EmptyState, ErrorNotice, Field, LoadMore, PageHeader } from '../components/ui';
import { useAction, usePagedList, useResource } from '../hooks';
import { Link, navigate, useLocation, useTitle } from '../router';
import type { Address, Contact } from '../types';

/**
 * Contacts and their delivery route: the sender address mail to them is sent
 * from while it is sendable (SPEC §6–§7), instead of the request's `from`.
 */
export function ContactsPage() {
  useTitle('Contacts');
  const { query } = useLocation();
  const email = query.get('email') ?? '';
  const contacts = usePagedList((cursor) => get<Page<Contact>>('/v1/contacts', { email, cursor }), [email]);
  const addresses = useResource(() => getAll<Address>('/v1/addresses'), []);
  const routes = addresses.data ?? [];

  return (
    <>
      <PageHeader title="Contacts" />
      <AddContact addresses={routes} onCreated={contacts.reload} />
      <SearchContact email={email} />
      <ErrorNotice error={contacts.error ?? addresses.error} />
      {contacts.items.length > 0 && (
        <DataTable caption="Contacts" columns={['Email', 'Name', 'Delivery route']} actions>
          {contacts.items.map((contact) => (
            <ContactRow key={contact.id} contact={contact} addresses={routes} onChange={contacts.reload} />
          ))}
        </DataTable>
      )}
      {!contacts.loading && !contacts.error && contacts.items.length === 0 && (
        <EmptyState title={email ? `No contact with the email ${email}.` : 'No contact yet.'}>
          <p>
            Mail to unknown recipients needs no contact. Add one to give a recipient a delivery route: a
            sender address their mail always comes from.
          </p>
        </EmptyState>
      )}
      <LoadMore list={contacts} what="contacts" />
    </>
  );
}

function AddContact({ addresses, onCreated }: { addresses: Address[]; onCreated: () => void }) {
  const empty = { email: '', first_name: '', last_name: '', delivery_address_id: '' };
  const [draft, setDraft] = useState(empty);
  const action = useAction();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(draft).filter(([, value]) => value.trim() !== ''));
    if (await action.run(() => post('/v1/contacts', body))) {
      setDraft(empty);
      onCreated();
    }
  };
  const set = (name: keyof typeof empty) => (value: string) => setDraft({ ...draft, [name]: value });
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="Add a contact">
      <Field label="Email" name="email" error={action.error}>
        {(props) => (
          <input
            {...props}
            type="email"
            required
            value={draft.email}
            onChange={(e) => set('email')(e.target.value)}
          />
        )}
      </Field>
      <Field label="First name" name="first_name" error={action.error}>
        {(props) => (
          <input {...props} value={draft.first_name} onChange={(e) => set('first_name')(e.target.value)} />
        )}
      </Field>
      <Field label="Last name" name="last_name" error={action.error}>
        {(props) => (
          <input {...props} value={draft.last_name} onChange={(e) => set('last_name')(e.target.value)} />
        )}
      </Field>
      <Field label="Delivery route" name="delivery_address_id" error={action.error}>
        {(props) => (
          <RouteSelect
            {...props}
            value={draft.delivery_address_id}
            addresses={addresses}
            onChange={set('delivery_address_id')}
          />
        )}
      </Field>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={action.busy}>
          Add contact
        </button>
      </div>
      <ErrorNotice error={action.error} showFields={false} />
    </form>
  );
}

function SearchContact({ email }: { email: string }) {
  const [draft, setDraft] = useState(email);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(draft.trim() ? `/contacts?email=${encodeURIComponent(draft.trim())}` : '/contacts');
  };
  return (
    <form className="search-row" onSubmit={submit} role="search" aria-label="Find a contact">
      <label htmlFor="contact-search" className="visually-hidden">
        Find a contact by email
      </label>
      <input
        id="contact-search"
        type="search"
        placeholder="Find by email"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
      />
      <button type="submit" className="button">
        Find
      </button>
      {email && <Link to="/contacts">Show all</Link>}
    </form>
  );
}
