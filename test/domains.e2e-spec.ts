import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { openSecret } from '@app/common';
import { DataSource } from 'typeorm';
import { Sql } from '../src/database/sql';
import { AddressesService } from '../src/modules/addresses/addresses.service';
import { DomainsService } from '../src/modules/addresses/domains.service';
import { ADMIN_TOKEN, createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { DnsServerHandle, startDnsServer } from './support/dns-server';

interface DnsRecord {
  type: string;
  name: string;
  value: string;
}

interface DomainBody {
  id: string;
  name: string;
  status: string;
  records: DnsRecord[];
}

const MISSING_ID = '00000000-0000-4000-8000-000000000000';
const ENCRYPTION_KEY = randomBytes(32).toString('hex');

let counter = 0;
/** A domain name no other test uses. */
function uniqueDomain(): string {
  return `d${++counter}-${randomBytes(3).toString('hex')}.example.test`;
}

async function addDomain(ws: Workspace, name = uniqueDomain()): Promise<DomainBody> {
  const res = await ws.api('post', '/v1/domains').send({ name }).expect(201);
  return res.body.data;
}

function publish(dns: DnsServerHandle, domain: DomainBody): void {
  for (const record of domain.records) dns.setTxt(record.name, record.value);
}

/** The base64 body of a PEM, without its armour lines. */
function pemBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
}

describe('domains and sender addresses', () => {
  let dns: DnsServerHandle;
  let t: TestApp;

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await createTestApp({ DNS_SERVERS: dns.server, DKIM_ENCRYPTION_KEY: ENCRYPTION_KEY });
  });
  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  describe('creating domains', () => {
    it('normalizes the name and lists the records to publish', async () => {
      const ws = await createWorkspace(t);
      const name = uniqueDomain();
      const res = await ws
        .api('post', '/v1/domains')
        .send({ name: `  ${name.toUpperCase()}. ` })
        .expect(201);
      expect(res.body).toEqual({
        data: {
          id: expect.any(String),
          name,
          status: 'pending',
          records: [
            {
              type: 'TXT',
              name: `_leadpush.${name}`,
              value: expect.stringMatching(/^leadpush-verification=[0-9a-f]{32}$/),
            },
            {
              type: 'TXT',
              name: expect.stringMatching(
                new RegExp(`^lp[0-9a-f]{8}\\._domainkey\\.${name.replace(/\./g, '\\.')}$`),
              ),
              value: expect.stringMatching(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/),
            },
          ],
          verified_at: null,
          created_at: expect.any(String),
        },
      });
      const got = await ws.api('get', `/v1/domains/${res.body.data.id}`).expect(200);
      expect(got.body).toEqual(res.body);
    });

    it('refuses a duplicate in the same workspace (any case) but not in another one', async () => {
      const a = await createWorkspace(t);
      const b = await createWorkspace(t);
      const name = uniqueDomain();
      await addDomain(a, name);
      const dup = await a.api('post', '/v1/domains').send({ name: name.toUpperCase() }).expect(409);
      expect(dup.body).toEqual({ error: 'conflict', message: expect.any(String) });
      await addDomain(b, name);
    });

    it.each([
      ['a single label', { name: 'localhost' }],
      ['an IP address', { name: '10.0.0.1' }],
      ['an email address', { name: 'me@example.test' }],
      ['a URL', { name: 'https://example.test' }],
      ['a label with an underscore', { name: 'my_mail.example.test' }],
      ['too long a name', { name: `${'a.'.repeat(127)}test` }],
      ['a number', { name: 42 }],
      ['no name', {}],
    ])('answers 422 for %s', async (_, body) => {
      const ws = await createWorkspace(t);
      const res = await ws.api('post', '/v1/domains').send(body).expect(422);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['name']);
    });

    it('rejects unknown fields', async () => {
      const ws = await createWorkspace(t);
      const res = await ws
        .api('post', '/v1/domains')
        .send({ name: uniqueDomain(), status: 'verified' })
        .expect(422);
      expect(res.body.errors).toEqual([{ field: 'status', message: expect.any(String) }]);
    });

    it('lists newest first with a cursor, and refuses a malformed cursor', async () => {
      const ws = await createWorkspace(t);
      const names = [uniqueDomain(), uniqueDomain(), uniqueDomain()];
      for (const name of names) await addDomain(ws, name);
      const first = await ws.api('get', '/v1/domains?limit=2').expect(200);
      expect(first.body.data.map((d: DomainBody) => d.name)).toEqual([names[2], names[1]]);
      expect(first.body.data[0].records).toHaveLength(2);
      const second = await ws.api('get', `/v1/domains?limit=2&cursor=${first.body.next_cursor}`).expect(200);
      expect(second.body).toEqual({ data: [expect.objectContaining({ name: names[0] })], next_cursor: null });
      const notUuid = Buffer.from(JSON.stringify([new Date().toISOString(), 'abc'])).toString('base64url');
      for (const cursor of ['%%%', notUuid]) {
        const bad = await ws.api('get', `/v1/domains?cursor=${cursor}`).expect(422);
        expect(bad.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
      }
    });
  });

  describe('private keys', () => {
    it('never appear in an answer, and are stored encrypted', async () => {
      const ws = await createWorkspace(t);
      const created = await ws.api('post', '/v1/domains').send({ name: uniqueDomain() }).expect(201);
      const domain: DomainBody = created.body.data;
      publish(dns, domain);
      const answers = [
        created,
        await ws.api('get', `/v1/domains/${domain.id}`).expect(200),
        await ws.api('get', '/v1/domains').expect(200),
        await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200),
        await t.admin('post', `/admin/v1/domains/${domain.id}/verify`).expect(200),
      ];

      const { rows } = await t.db.query('SELECT dkim_private_key FROM domains WHERE id = $1', [domain.id]);
      const stored: string = rows[0].dkim_private_key;
      expect(stored).toMatch(/^v1:/);
      expect(stored).not.toContain('PRIVATE KEY');
      const pem = openSecret(stored, Buffer.from(ENCRYPTION_KEY, 'hex'));
      const publicKey = createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
      expect(domain.records[1].value).toBe(`v=DKIM1; k=rsa; p=${publicKey}`);

      const secret = pemBody(pem);
      for (const answer of answers) {
        expect(answer.text).not.toContain('PRIVATE KEY');
        expect(answer.text).not.toContain(secret.slice(0, 64));
        expect(answer.text).not.toContain(secret.slice(-64));
        expect(answer.text).not.toContain(stored.slice(3, 40));
      }
    });
  });

  describe('verification', () => {
    it('is pending until both records carry the expected values, then verified', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const [ownership, dkim] = domain.records;

      const before = await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      expect(before.body.data).toMatchObject({ id: domain.id, status: 'pending', verified_at: null });
      expect(before.body.data.checks).toEqual({
        ownership: {
          name: ownership.name,
          expected: ownership.value,
          found: false,
          status: 'not_found',
          detail: expect.any(String),
        },
        dkim: {
          name: dkim.name,
          expected: dkim.value,
          found: false,
          status: 'not_found',
          detail: expect.any(String),
        },
      });

      dns.setTxt(ownership.name, ['google-site-verification=abc', ownership.value]);
      const other = await addDomain(ws);
      dns.setTxt(dkim.name, other.records[1].value);
      const mismatched = await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      expect(mismatched.body.data.status).toBe('pending');
      expect(mismatched.body.data.checks.ownership).toEqual({
        name: ownership.name,
        expected: ownership.value,
        found: true,
        status: 'found',
      });
      expect(mismatched.body.data.checks.dkim).toMatchObject({
        found: false,
        status: 'mismatched',
        detail: expect.any(String),
      });
      await ws
        .api('get', `/v1/domains/${domain.id}`)
        .expect(200)
        .expect((res) => {
          expect(res.body.data.status).toBe('pending');
        });

      // Over 255 bytes: the DNS server sends the value as several character-strings of one record.
      expect(dkim.value.length).toBeGreaterThan(255);
      dns.setTxt(dkim.name, dkim.value);
      const verified = await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      expect(verified.body.data).toMatchObject({ status: 'verified', verified_at: expect.any(String) });
      expect(verified.body.data.checks.ownership).toMatchObject({ found: true, status: 'found' });
      expect(verified.body.data.checks.dkim).toEqual({
        name: dkim.name,
        expected: dkim.value,
        found: true,
        status: 'found',
      });

      const got = await ws.api('get', `/v1/domains/${domain.id}`).expect(200);
      expect(got.body.data).toMatchObject({
        status: 'verified',
        verified_at: verified.body.data.verified_at,
      });
      expect(got.body.data).not.toHaveProperty('checks');
    });

    it('accepts a DKIM record published with other whitespace', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const [ownership, dkim] = domain.records;
      dns.setTxt(ownership.name, ownership.value);
      dns.setTxt(dkim.name, dkim.value.replace(/; /g, ';').replace(/p=(.{40})/, 'p= $1 '));
      const res = await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      expect(res.body.data.status).toBe('verified');
    });

    it('answers 200 pending with status "error" when DNS times out, and keeps a verified domain verified', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const verified = await addDomain(ws);
      publish(dns, verified);
      await ws.api('post', `/v1/domains/${verified.id}/verify`).expect(200);

      dns.setTimeoutMode(true);
      try {
        const started = Date.now();
        const res = await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
        expect(Date.now() - started).toBeLessThan(10000);
        expect(res.body.data.status).toBe('pending');
        for (const check of [res.body.data.checks.ownership, res.body.data.checks.dkim]) {
          expect(check).toMatchObject({
            found: false,
            status: 'error',
            detail: expect.stringContaining('ETIMEOUT'),
          });
        }
        const still = await ws.api('post', `/v1/domains/${verified.id}/verify`).expect(200);
        expect(still.body.data.status).toBe('verified');
        expect(still.body.data.checks.dkim.status).toBe('error');
      } finally {
        dns.setTimeoutMode(false);
      }
    });

    it('lets the operator verify a domain without DNS', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      await t.http
        .post(`/admin/v1/domains/${domain.id}/verify`)
        .set('Authorization', 'Bearer nope')
        .expect(401);
      await ws.api('post', `/admin/v1/domains/${domain.id}/verify`).expect(401);
      const res = await t.admin('post', `/admin/v1/domains/${domain.id}/verify`).expect(200);
      expect(res.body.data).toMatchObject({ id: domain.id, name: domain.name, status: 'verified' });
      expect(res.body.data.records).toEqual(domain.records);
      await t.admin('post', `/admin/v1/domains/${MISSING_ID}/verify`).expect(404);
      await t.admin('post', '/admin/v1/domains/not-a-uuid/verify').expect(404);
      const got = await ws.api('get', `/v1/domains/${domain.id}`).expect(200);
      expect(got.body.data.status).toBe('verified');
    });
  });

  describe('sender addresses', () => {
    it('are sendable exactly when their domain is verified', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const created = await ws
        .api('post', '/v1/addresses')
        .send({ email: ` Billing@${domain.name.toUpperCase()} `, name: ' Acme Billing ' })
        .expect(201);
      expect(created.body).toEqual({
        data: {
          id: expect.any(String),
          email: `billing@${domain.name}`,
          name: 'Acme Billing',
          domain_id: domain.id,
          sendable: false,
          created_at: expect.any(String),
        },
      });
      const id = created.body.data.id;

      publish(dns, domain);
      await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      const got = await ws.api('get', `/v1/addresses/${id}`).expect(200);
      expect(got.body.data).toEqual({ ...created.body.data, sendable: true });
      const list = await ws.api('get', '/v1/addresses').expect(200);
      expect(list.body).toEqual({ data: [got.body.data], next_cursor: null });

      const later = await ws
        .api('post', '/v1/addresses')
        .send({ email: `news@${domain.name}` })
        .expect(201);
      expect(later.body.data).toMatchObject({ name: null, sendable: true });
    });

    it('need a domain of the workspace, are unique, and validate their fields', async () => {
      const a = await createWorkspace(t);
      const b = await createWorkspace(t);
      const domain = await addDomain(a);
      const bDomain = await addDomain(b);
      for (const email of [`x@${bDomain.name}`, 'x@nowhere.example.test', `x@sub.${domain.name}`]) {
        const res = await a.api('post', '/v1/addresses').send({ email }).expect(422);
        expect(res.body).toMatchObject({
          error: 'validation_failed',
          errors: [{ field: 'email', message: expect.any(String) }],
        });
      }
      await a
        .api('post', '/v1/addresses')
        .send({ email: `x@${domain.name}` })
        .expect(201);
      const dup = await a
        .api('post', '/v1/addresses')
        .send({ email: ` X@${domain.name.toUpperCase()}` })
        .expect(409);
      expect(dup.body.error).toBe('conflict');

      const invalid = await a
        .api('post', '/v1/addresses')
        .send({ email: 'not an email', name: 'two\r\nlines', extra: true })
        .expect(422);
      expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'email',
        'extra',
        'name',
      ]);
    });

    it('list with a cursor', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      for (const local of ['a', 'b', 'c']) {
        await ws
          .api('post', '/v1/addresses')
          .send({ email: `${local}@${domain.name}` })
          .expect(201);
      }
      const first = await ws.api('get', '/v1/addresses?limit=2').expect(200);
      expect(first.body.data.map((a: { email: string }) => a.email[0])).toEqual(['c', 'b']);
      const second = await ws
        .api('get', `/v1/addresses?limit=2&cursor=${first.body.next_cursor}`)
        .expect(200);
      expect(second.body.data.map((a: { email: string }) => a.email[0])).toEqual(['a']);
      expect(second.body.next_cursor).toBeNull();
      await ws.api('get', '/v1/addresses?cursor=nope').expect(422);
    });

    it('are deleted with their domain', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const address = await ws
        .api('post', '/v1/addresses')
        .send({ email: `x@${domain.name}` })
        .expect(201);
      await ws.api('delete', `/v1/domains/${domain.id}`).expect(204);
      await ws.api('get', `/v1/domains/${domain.id}`).expect(404);
      await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(404);
      await ws.api('delete', `/v1/domains/${domain.id}`).expect(404);
      await ws.api('get', `/v1/addresses/${address.body.data.id}`).expect(404);
      const list = await ws.api('get', '/v1/addresses').expect(200);
      expect(list.body.data).toEqual([]);
    });

    it('can be deleted', async () => {
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      const address = await ws
        .api('post', '/v1/addresses')
        .send({ email: `x@${domain.name}` })
        .expect(201);
      await ws.api('delete', `/v1/addresses/${address.body.data.id}`).expect(204);
      await ws.api('get', `/v1/addresses/${address.body.data.id}`).expect(404);
      await ws.api('delete', `/v1/addresses/${address.body.data.id}`).expect(404);
      await ws
        .api('post', '/v1/addresses')
        .send({ email: `x@${domain.name}` })
        .expect(201);
    });
  });

  it("workspace B never sees nor touches A's domains and addresses", async () => {
    const a = await createWorkspace(t);
    const b = await createWorkspace(t);
    const domain = await addDomain(a);
    const address = await a
      .api('post', '/v1/addresses')
      .send({ email: `x@${domain.name}` })
      .expect(201);
    const addressId = address.body.data.id;

    for (const [method, path] of [
      ['get', `/v1/domains/${domain.id}`],
      ['post', `/v1/domains/${domain.id}/verify`],
      ['delete', `/v1/domains/${domain.id}`],
      ['get', `/v1/addresses/${addressId}`],
      ['delete', `/v1/addresses/${addressId}`],
      ['get', '/v1/domains/not-a-uuid'],
      ['post', '/v1/domains/not-a-uuid/verify'],
      ['delete', '/v1/domains/not-a-uuid'],
      ['get', '/v1/addresses/not-a-uuid'],
      ['delete', `/v1/addresses/${MISSING_ID}`],
    ] as const) {
      const res = await b.api(method, path).expect(404);
      expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
    }
    expect((await b.api('get', '/v1/domains').expect(200)).body.data).toEqual([]);
    expect((await b.api('get', '/v1/addresses').expect(200)).body.data).toEqual([]);

    await a.api('get', `/v1/domains/${domain.id}`).expect(200);
    await a.api('get', `/v1/addresses/${addressId}`).expect(200);
  });

  describe('services for the sending path', () => {
    it('answers concurrent findSendable calls with one statement, each in its own workspace', async () => {
      const addresses = t.app.get(AddressesService);
      const a = await createWorkspace(t);
      const b = await createWorkspace(t);
      const domain = await addDomain(a);
      await a
        .api('post', '/v1/addresses')
        .send({ email: `one@${domain.name}` })
        .expect(201);
      await a
        .api('post', '/v1/addresses')
        .send({ email: `two@${domain.name}`, name: 'Two' })
        .expect(201);
      publish(dns, domain);
      await a.api('post', `/v1/domains/${domain.id}/verify`).expect(200);

      const statements = jest.spyOn(t.app.get(Sql), 'rows');
      try {
        const found = await Promise.all([
          addresses.findSendable(a.workspaceId, `one@${domain.name}`),
          addresses.findSendable(b.workspaceId, `one@${domain.name}`),
          addresses.findSendable(a.workspaceId, `TWO@${domain.name}`),
          addresses.findSendable(a.workspaceId, `three@${domain.name}`),
          addresses.findSendable(a.workspaceId, `one@${domain.name}`),
        ]);
        expect(found.map((sender) => sender && [sender.email, sender.name])).toEqual([
          [`one@${domain.name}`, null],
          null,
          [`two@${domain.name}`, 'Two'],
          null,
          [`one@${domain.name}`, null],
        ]);
        expect(statements).toHaveBeenCalledTimes(1);
      } finally {
        statements.mockRestore();
      }
    });

    it('findSendable and getSigningKey answer only for verified domains of the workspace', async () => {
      const addresses = t.app.get(AddressesService);
      const domains = t.app.get(DomainsService);
      const a = await createWorkspace(t);
      const b = await createWorkspace(t);
      const domain = await addDomain(a);
      const created = await a
        .api('post', '/v1/addresses')
        .send({ email: `billing@${domain.name}`, name: 'Billing' })
        .expect(201);

      expect(await addresses.findSendable(a.workspaceId, `billing@${domain.name}`)).toBeNull();
      expect(await domains.getSigningKey(a.workspaceId, domain.id)).toBeNull();

      publish(dns, domain);
      await a.api('post', `/v1/domains/${domain.id}/verify`).expect(200);

      const sender = {
        id: created.body.data.id,
        email: `billing@${domain.name}`,
        name: 'Billing',
        domainId: domain.id,
        domainName: domain.name,
      };
      expect(await addresses.findSendable(a.workspaceId, `billing@${domain.name}`)).toEqual(sender);
      expect(await addresses.findSendable(a.workspaceId, ` BILLING@${domain.name.toUpperCase()}`)).toEqual(
        sender,
      );
      expect(await addresses.findSendable(a.workspaceId, `other@${domain.name}`)).toBeNull();
      expect(await addresses.findSendable(b.workspaceId, `billing@${domain.name}`)).toBeNull();

      const key = await domains.getSigningKey(a.workspaceId, domain.id);
      expect(key).toEqual({
        domainName: domain.name,
        selector: domain.records[1].name.split('.')[0],
        privateKey: expect.objectContaining({ type: 'private', asymmetricKeyType: 'rsa' }),
      });
      const publicKey = createPublicKey(key!.privateKey)
        .export({ type: 'spki', format: 'der' })
        .toString('base64');
      expect(domain.records[1].value).toContain(`p=${publicKey}`);
      expect(await domains.getSigningKey(b.workspaceId, domain.id)).toBeNull();
      expect(await domains.getSigningKey(a.workspaceId, 'not-a-uuid')).toBeNull();
      expect(await domains.getSigningKey(a.workspaceId, MISSING_ID)).toBeNull();
    });

    it('reads a signing key once for the deliveries that ask for it at the same time', async () => {
      const domains = t.app.get(DomainsService);
      const ws = await createWorkspace(t);
      const domain = await addDomain(ws);
      publish(dns, domain);
      await ws.api('post', `/v1/domains/${domain.id}/verify`).expect(200);
      const reads = jest.spyOn(t.app.get(DataSource), 'query');
      try {
        const keys = await Promise.all(
          Array.from({ length: 5 }, () => domains.getSigningKey(ws.workspaceId, domain.id)),
        );
        expect(new Set(keys).size).toBe(1);
        expect(keys[0]?.domainName).toBe(domain.name);
        expect(reads).toHaveBeenCalledTimes(1);
      } finally {
        reads.mockRestore();
      }
    });
  });

  it('documents every route in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(doc.body.paths).toMatchObject({
      '/v1/domains': { get: expect.anything(), post: expect.anything() },
      '/v1/domains/{id}': { get: expect.anything(), delete: expect.anything() },
      '/v1/domains/{id}/verify': { post: expect.anything() },
      '/admin/v1/domains/{id}/verify': { post: expect.anything() },
      '/v1/addresses': { get: expect.anything(), post: expect.anything() },
      '/v1/addresses/{id}': { get: expect.anything(), delete: expect.anything() },
    });
    const schemas = doc.body.components.schemas;
    expect(schemas.CreateDomainDto.properties.name).toMatchObject({
      type: 'string',
      example: 'mail.example.com',
    });
    expect(schemas.CreateAddressDto.properties.email.example).toBe('billing@mail.example.com');
    expect(schemas.DnsCheckDto.properties.status.enum.sort()).toEqual([
      'error',
      'found',
      'mismatched',
      'not_found',
    ]);
    expect(doc.body.paths['/v1/domains'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'limit',
      'cursor',
    ]);
  });
});

describe('domains without DKIM_ENCRYPTION_KEY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('stores keys unencrypted and still signs with them', async () => {
    const ws = await createWorkspace(t);
    const domain = await addDomain(ws);
    const { rows } = await t.db.query('SELECT dkim_private_key FROM domains WHERE id = $1', [domain.id]);
    expect(rows[0].dkim_private_key).toMatch(/^plain:-----BEGIN PRIVATE KEY-----/);
    await t.http
      .post(`/admin/v1/domains/${domain.id}/verify`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    const key = await t.app.get(DomainsService).getSigningKey(ws.workspaceId, domain.id);
    const stored = createPrivateKey(rows[0].dkim_private_key.slice('plain:'.length));
    expect(key?.privateKey.equals(stored)).toBe(true);
  });
});
