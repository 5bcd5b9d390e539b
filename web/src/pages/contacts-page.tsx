import { type FormEvent, useState } from 'react';
import { del, get, getAll, type Page, patch, post } from '../api';
import { EmptyState, ErrorNotice, Field, LoadMore, PageHeader } from '../components/ui';
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
        <div className="table-wrap card">
          <table className="table">
            <caption className="visually-hidden">Contacts</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Delivery route</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {contacts.items.map((contact) => (
                <ContactRow
                  key={contact.id}
                  contact={contact}
                  addresses={routes}
                  onChange={contacts.reload}
                />
              ))}
            </tbody>
          </table>
        </div>
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

function routeLabel(addresses: Address[], id: string | null): string {
  if (!id) return "The request's from";
  const address = addresses.find((a) => a.id === id);
  if (!address) return 'A sender address';
  return address.sendable ? address.email : `${address.email} (not sendable: the request's from is used)`;
}

function RouteSelect(props: {
  id: string;
  name: string;
  value: string;
  addresses: Address[];
  onChange: (value: string) => void;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
}) {
  const { value, addresses, onChange, ...rest } = props;
  return (
    <select {...rest} value={value} onChange={(event) => onChange(event.target.value)}>
      <option value="">The request's from</option>
      {addresses.map((address) => (
        <option key={address.id} value={address.id}>
          {address.email}
          {address.sendable ? '' : ' (not sendable)'}
        </option>
      ))}
    </select>
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

function ContactRow({
  contact,
  addresses,
  onChange,
}: {
  contact: Contact;
  addresses: Address[];
  onChange: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [route, setRoute] = useState(contact.delivery_address_id ?? '');
  const action = useAction();
  const name = [contact.first_name, contact.last_name].filter(Boolean).join(' ');

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run(() =>
      patch(`/v1/contacts/${contact.id}`, { delivery_address_id: route || null }),
    );
    if (ok) {
      setEditing(false);
      onChange();
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the contact ${contact.email}?`)) return;
    if (await action.run(() => del(`/v1/contacts/${contact.id}`))) onChange();
  };

  return (
    <tr>
      <td data-label="Email" className="strong">
        {contact.email}
      </td>
      <td data-label="Name">{name || <span className="muted">—</span>}</td>
      <td data-label="Delivery route">
        {editing ? (
          <form className="inline-form compact" onSubmit={save}>
            <Field
              label={`Delivery route of ${contact.email}`}
              name="delivery_address_id"
              error={action.error}
            >
              {(props) => <RouteSelect {...props} value={route} addresses={addresses} onChange={setRoute} />}
            </Field>
            <button type="submit" className="button button-small button-primary" disabled={action.busy}>
              Save
            </button>
            <button
              type="button"
              className="button button-small button-ghost"
              onClick={() => setEditing(false)}
            >
              Cancel
            </button>
          </form>
        ) : (
          routeLabel(addresses, contact.delivery_address_id)
        )}
        <ErrorNotice error={action.error} showFields={false} />
      </td>
      <td className="row-actions">
        {!editing && (
          <button type="button" className="button button-small" onClick={() => setEditing(true)}>
            Change route <span className="visually-hidden">of {contact.email}</span>
          </button>
        )}
        <button type="button" className="button button-small button-ghost" onClick={remove}>
          Delete <span className="visually-hidden">{contact.email}</span>
        </button>
      </td>
    </tr>
  );
}
