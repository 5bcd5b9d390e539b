import { type FormEvent, useState } from 'react';
import { del, patch } from '../api';
import { useAction } from '../hooks';
import type { Address, Contact } from '../types';
import { ErrorNotice, Field } from './ui';

function routeLabel(addresses: Address[], id: string | null): string {
  if (!id) return "The request's from";
  const address = addresses.find((a) => a.id === id);
  if (!address) return 'A sender address';
  return address.sendable ? address.email : `${address.email} (not sendable: the request's from is used)`;
}

export function RouteSelect(props: {
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

export function ContactRow({
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
