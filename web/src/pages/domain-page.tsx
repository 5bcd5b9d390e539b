import { type FormEvent, useState } from 'react';
import { del, get, getAll, post } from '../api';
import {
  Badge,
  CopyButton,
  EmptyState,
  ErrorNotice,
  Field,
  Loading,
  PageHeader,
  Time,
} from '../components/ui';
import { useAction, useResource } from '../hooks';
import { Link, navigate, useTitle } from '../router';
import type { Address, DnsCheck, Domain, DomainVerification } from '../types';

/** One domain: the DNS records to publish, verification per record, and its sender addresses. */
export function DomainPage({ id }: { id: string }) {
  const domain = useResource(
    () => get<{ data: Domain }>(`/v1/domains/${encodeURIComponent(id)}`).then((r) => r.data),
    [id],
  );
  const [checks, setChecks] = useState<Record<string, DnsCheck>>();
  const verify = useAction();
  const remove = useAction();
  useTitle(domain.data?.name ?? 'Domain');

  if (domain.error && !domain.data) {
    return (
      <>
        <PageHeader title="Domain" />
        <ErrorNotice error={domain.error} />
        <Link to="/domains">Back to the domains</Link>
      </>
    );
  }
  if (!domain.data) return <Loading what="the domain" />;
  const d = domain.data;

  const runVerify = () =>
    verify.run(async () => {
      const result = (await post<{ data: DomainVerification }>(`/v1/domains/${d.id}/verify`)).data;
      setChecks(result.checks);
      domain.reload(true);
    });
  const runRemove = async () => {
    if (!window.confirm(`Delete ${d.name} and its sender addresses? Nothing can be sent from it afterwards.`))
      return;
    if (await remove.run(() => del(`/v1/domains/${d.id}`))) navigate('/domains');
  };
  const checkFor = (name: string) =>
    checks ? Object.values(checks).find((check) => check.name === name) : undefined;

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/domains">Domains</Link> <span aria-hidden="true">/</span> <span>{d.name}</span>
      </nav>
      <PageHeader title={d.name}>
        <Badge value={d.status} />
        <button type="button" className="button button-primary" onClick={runVerify} disabled={verify.busy}>
          {verify.busy ? 'Checking DNS…' : 'Verify DNS records'}
        </button>
        <button type="button" className="button button-danger" onClick={runRemove} disabled={remove.busy}>
          Delete
        </button>
      </PageHeader>
      <ErrorNotice error={verify.error ?? remove.error} />
      <section className="card" aria-labelledby="records-title">
        <h2 id="records-title">DNS records</h2>
        <p className="muted">
          Publish these TXT records at your DNS provider, then verify.{' '}
          {d.status === 'verified' ? (
            <>
              Verified <Time value={d.verified_at} />.
            </>
          ) : (
            'Until the domain is verified, its addresses cannot send.'
          )}
        </p>
        <ul className="records">
          {d.records.map((record) => {
            const check = checkFor(record.name);
            return (
              <li key={record.name} className="record" data-testid="dns-record">
                <div className="record-head">
                  <span className="badge badge-muted">{record.type}</span>
                  <code className="record-name">{record.name}</code>
                  <CopyButton value={record.name} label="Copy name" />
                  {check && <Badge value={check.status} />}
                </div>
                <div className="record-value">
                  <code>{record.value}</code>
                  <CopyButton value={record.value} label="Copy value" />
                </div>
                {check?.detail && <p className="field-error">{check.detail}</p>}
              </li>
            );
          })}
        </ul>
      </section>
      <Addresses domain={d} />
    </>
  );
}

function Addresses({ domain }: { domain: Domain }) {
  const addresses = useResource(
    () => getAll<Address>('/v1/addresses').then((all) => all.filter((a) => a.domain_id === domain.id)),
    [domain.id],
  );
  const [local, setLocal] = useState('');
  const [name, setName] = useState('');
  const create = useAction();
  const remove = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = name.trim()
      ? { email: `${local}@${domain.name}`, name }
      : { email: `${local}@${domain.name}` };
    if (await create.run(() => post('/v1/addresses', body))) {
      setLocal('');
      setName('');
      addresses.reload(true);
    }
  };
  const removeAddress = async (address: Address) => {
    if (!window.confirm(`Delete the sender address ${address.email}?`)) return;
    if (await remove.run(() => del(`/v1/addresses/${address.id}`))) addresses.reload(true);
  };

  return (
    <section className="card" aria-labelledby="addresses-title">
      <h2 id="addresses-title">Sender addresses</h2>
      <form className="inline-form" onSubmit={submit} aria-label="Add a sender address">
        <Field label="Address" name="email" error={create.error}>
          {(props) => (
            <div className="input-suffix">
              <input
                {...props}
                required
                autoComplete="off"
                placeholder="billing"
                value={local}
                onChange={(event) => setLocal(event.target.value)}
              />
              <span>@{domain.name}</span>
            </div>
          )}
        </Field>
        <Field label="Display name (optional)" name="name" error={create.error}>
          {(props) => (
            <input
              {...props}
              placeholder="Acme Billing"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button" disabled={create.busy}>
          Add address
        </button>
      </form>
      <ErrorNotice error={create.error ?? remove.error} showFields={false} />
      <ErrorNotice error={addresses.error} />
      {addresses.data && addresses.data.length === 0 && (
        <EmptyState title="No sender address on this domain yet.">
          <p>Add the address your mail comes from, e.g. no-reply@{domain.name}.</p>
        </EmptyState>
      )}
      {addresses.data && addresses.data.length > 0 && (
        <ul className="list">
          {addresses.data.map((address) => (
            <li key={address.id} className="list-row">
              <span>
                <span className="strong">{address.email}</span>
                {address.name && <span className="muted"> · {address.name}</span>}
              </span>
              <span className="row-actions">
                <Badge value={address.sendable ? 'sendable' : 'not sendable'} />
                <button
                  type="button"
                  className="button button-small button-ghost"
                  onClick={() => removeAddress(address)}
                >
                  Delete <span className="visually-hidden">{address.email}</span>
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
