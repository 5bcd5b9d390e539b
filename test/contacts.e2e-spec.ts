import { randomBytes } from 'node:crypto';
import { ContactsService } from '../src/modules/contacts/contacts.service';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

interface ContactBody {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  delivery_address_id: string | null;
}

function uniqueEmail(local = 'ada'): string {
  return `${local}-${randomBytes(4).toString('hex')}@example.test`;
}

describe('contacts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  /** A sender address on a new domain of the workspace, verified by the operator unless asked not to. */
  async function addAddress(
    ws: Workspace,
    { verified = true } = {},
  ): Promise<{ id: string; email: string; domainId: string }> {
    const name = `d-${randomBytes(4).toString('hex')}.example.test`;
    const domain = await ws.api('post', '/v1/domains').send({ name }).expect(201);
    if (verified) await t.admin('post', `/admin/v1/domains/${domain.body.data.id}/verify`).expect(200);
    const address = await ws
      .api('post', '/v1/addresses')
      .send({ email: `route@${name}`, name: 'Route' })
      .expect(201);
    return { id: address.body.data.id, email: address.body.data.email, domainId: domain.body.data.id };
  }

  async function addContact(ws: Workspace, body: Record<string, unknown> = {}): Promise<ContactBody> {
    const res = await ws
      .api('post', '/v1/contacts')
      .send({ email: uniqueEmail(), ...body })
      .expect(201);
    return res.body.data;
  }

  it('creates a contact with a normalized email and refuses duplicates in any case or spacing', async () => {
    const ws = await createWorkspace(t);
    const email = uniqueEmail();
    const res = await ws
      .api('post', '/v1/contacts')
      .send({ email: `  ${email.toUpperCase()} `, first_name: ' Ada ', last_name: 'Lovelace' })
      .expect(201);
    expect(res.body).toEqual({
      data: {
        id: expect.any(String),
        email,
        first_name: 'Ada',
        last_name: 'Lovelace',
        delivery_address_id: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    });
    for (const again of [email, email.toUpperCase(), ` ${email}\t`]) {
      const dup = await ws.api('post', '/v1/contacts').send({ email: again }).expect(409);
      expect(dup.body).toEqual({ error: 'conflict', message: expect.any(String) });
    }
    const other = await createWorkspace(t);
    await other.api('post', '/v1/contacts').send({ email }).expect(201);
  });

  it('lets exactly one of concurrent creates with the same email win', async () => {
    const ws = await createWorkspace(t);
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ws.api('post', '/v1/contacts').send({ email: i % 2 ? email.toUpperCase() : email }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const list = await ws.api('get', '/v1/contacts').expect(200);
    expect(list.body.data).toHaveLength(1);
  });

  it('validates fields', async () => {
    const ws = await createWorkspace(t);
    const res = await ws
      .api('post', '/v1/contacts')
      .send({ email: 'nope', first_name: '', last_name: 7, delivery_address_id: 'x', cc: 'y' })
      .expect(422);
    expect([...new Set(res.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual([
      'cc',
      'delivery_address_id',
      'email',
      'first_name',
      'last_name',
    ]);
    await ws.api('post', '/v1/contacts').send({}).expect(422);
  });

  it('finds a contact by email, after normalization', async () => {
    const ws = await createWorkspace(t);
    const ada = await addContact(ws);
    await addContact(ws);
    const res = await ws
      .api('get', `/v1/contacts?email=${encodeURIComponent(` ${ada.email.toUpperCase()} `)}`)
      .expect(200);
    expect(res.body).toEqual({ data: [{ ...ada, updated_at: expect.any(String) }], next_cursor: null });
    const none = await ws.api('get', `/v1/contacts?email=${uniqueEmail()}`).expect(200);
    expect(none.body).toEqual({ data: [], next_cursor: null });
    const bad = await ws.api('get', '/v1/contacts?email=not-an-email').expect(422);
    expect(bad.body.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
  });

  it('lists newest first with a cursor', async () => {
    const ws = await createWorkspace(t);
    const created: ContactBody[] = [];
    for (let i = 0; i < 5; i++) created.push(await addContact(ws));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/contacts?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await ws.api('get', path).expect(200)).body as {
        data: ContactBody[];
        next_cursor: string | null;
      };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(created.map((c) => c.id).reverse());
    await ws.api('get', '/v1/contacts?cursor=garbage').expect(422);
    await ws.api('get', '/v1/contacts?limit=101').expect(422);
  });

  it('routes a contact only through an address of its own workspace', async () => {
    const a = await createWorkspace(t);
    const b = await createWorkspace(t);
    const own = await addAddress(a);
    const foreign = await addAddress(b);

    const routed = await addContact(a, { delivery_address_id: own.id });
    expect(routed.delivery_address_id).toBe(own.id);
    for (const id of [foreign.id, MISSING_ID]) {
      const res = await a
        .api('post', '/v1/contacts')
        .send({ email: uniqueEmail(), delivery_address_id: id })
        .expect(422);
      expect(res.body).toMatchObject({
        error: 'validation_failed',
        errors: [{ field: 'delivery_address_id', message: expect.any(String) }],
      });
      const patch = await a
        .api('patch', `/v1/contacts/${routed.id}`)
        .send({ delivery_address_id: id })
        .expect(422);
      expect(patch.body.errors).toEqual([{ field: 'delivery_address_id', message: expect.any(String) }]);
    }
    const unchanged = await a.api('get', `/v1/contacts/${routed.id}`).expect(200);
    expect(unchanged.body.data.delivery_address_id).toBe(own.id);
  });

  it('updates names, email and route; null clears a name or the route', async () => {
    const ws = await createWorkspace(t);
    const address = await addAddress(ws);
    const contact = await addContact(ws, {
      first_name: 'Ada',
      last_name: 'Lovelace',
      delivery_address_id: address.id,
    });
    const taken = await addContact(ws);

    const newEmail = uniqueEmail('countess');
    const patched = await ws
      .api('patch', `/v1/contacts/${contact.id}`)
      .send({ email: ` ${newEmail.toUpperCase()}`, first_name: 'Augusta', last_name: null })
      .expect(200);
    expect(patched.body.data).toMatchObject({
      id: contact.id,
      email: newEmail,
      first_name: 'Augusta',
      last_name: null,
      delivery_address_id: address.id,
    });

    const cleared = await ws
      .api('patch', `/v1/contacts/${contact.id}`)
      .send({ delivery_address_id: null })
      .expect(200);
    expect(cleared.body.data).toMatchObject({
      email: newEmail,
      first_name: 'Augusta',
      delivery_address_id: null,
    });
    const same = await ws.api('patch', `/v1/contacts/${contact.id}`).send({}).expect(200);
    expect(same.body.data).toMatchObject({
      email: newEmail,
      first_name: 'Augusta',
      delivery_address_id: null,
    });

    const clash = await ws
      .api('patch', `/v1/contacts/${contact.id}`)
      .send({ email: taken.email.toUpperCase() })
      .expect(409);
    expect(clash.body.error).toBe('conflict');
    await ws.api('patch', `/v1/contacts/${contact.id}`).send({ email: null }).expect(422);
    await ws.api('patch', `/v1/contacts/${contact.id}`).send({ id: MISSING_ID }).expect(422);
    const got = await ws.api('get', `/v1/contacts/${contact.id}`).expect(200);
    expect(got.body.data.email).toBe(newEmail);
  });

  it('loses its route when the address or its domain is deleted', async () => {
    const ws = await createWorkspace(t);
    const first = await addAddress(ws);
    const second = await addAddress(ws);
    const viaAddress = await addContact(ws, { delivery_address_id: first.id });
    const viaDomain = await addContact(ws, { delivery_address_id: second.id });
    await ws.api('delete', `/v1/addresses/${first.id}`).expect(204);
    await ws.api('delete', `/v1/domains/${second.domainId}`).expect(204);
    for (const contact of [viaAddress, viaDomain]) {
      const res = await ws.api('get', `/v1/contacts/${contact.id}`).expect(200);
      expect(res.body.data.delivery_address_id).toBeNull();
    }
  });

  it('deletes a contact', async () => {
    const ws = await createWorkspace(t);
    const contact = await addContact(ws);
    await ws.api('delete', `/v1/contacts/${contact.id}`).expect(204);
    await ws.api('get', `/v1/contacts/${contact.id}`).expect(404);
    await ws.api('delete', `/v1/contacts/${contact.id}`).expect(404);
    await ws.api('post', '/v1/contacts').send({ email: contact.email }).expect(201);
  });

  it("workspace B never sees nor touches A's contacts", async () => {
    const a = await createWorkspace(t);
    const b = await createWorkspace(t);
    const contact = await addContact(a);
    for (const [method, path] of [
      ['get', `/v1/contacts/${contact.id}`],
      ['patch', `/v1/contacts/${contact.id}`],
      ['delete', `/v1/contacts/${contact.id}`],
      ['get', '/v1/contacts/not-a-uuid'],
      ['patch', '/v1/contacts/not-a-uuid'],
      ['delete', `/v1/contacts/${MISSING_ID}`],
    ] as const) {
      const res = await b.api(method, path).send({ first_name: 'Mallory' }).expect(404);
      expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
    }
    expect((await b.api('get', '/v1/contacts').expect(200)).body.data).toEqual([]);
    expect((await b.api('get', `/v1/contacts?email=${contact.email}`).expect(200)).body.data).toEqual([]);
    const mine = await a.api('get', `/v1/contacts/${contact.id}`).expect(200);
    expect(mine.body.data.first_name).toBeNull();
  });

  it('findRecipients gives contacts with their route only while it is sendable, per workspace', async () => {
    const contacts = t.app.get(ContactsService);
    const a = await createWorkspace(t);
    const b = await createWorkspace(t);
    const sendable = await addAddress(a);
    const pending = await addAddress(a, { verified: false });
    const routed = await addContact(a, { delivery_address_id: sendable.id });
    const routedPending = await addContact(a, { delivery_address_id: pending.id });
    const plain = await addContact(a);
    const stranger = uniqueEmail('stranger');

    const lookups = [routed.email, routedPending.email, plain.email, stranger].map((email) => ({
      workspaceId: a.workspaceId,
      email,
    }));
    expect(
      await contacts.findRecipients([...lookups, { workspaceId: b.workspaceId, email: routed.email }]),
    ).toEqual([
      {
        contactId: routed.id,
        route: {
          id: sendable.id,
          email: sendable.email,
          name: 'Route',
          domainId: sendable.domainId,
          domainName: sendable.email.split('@')[1],
        },
      },
      { contactId: routedPending.id, route: null },
      { contactId: plain.id, route: null },
      null,
      null,
    ]);
    expect(await contacts.findRecipients([])).toEqual([]);

    await t.admin('post', `/admin/v1/domains/${pending.domainId}/verify`).expect(200);
    const [later] = await contacts.findRecipients([
      { workspaceId: a.workspaceId, email: routedPending.email },
    ]);
    expect(later?.route?.id).toBe(pending.id);
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = await t.http.get('/docs-json').expect(200);
    expect(doc.body.paths).toMatchObject({
      '/v1/contacts': { get: expect.anything(), post: expect.anything() },
      '/v1/contacts/{id}': { get: expect.anything(), patch: expect.anything(), delete: expect.anything() },
    });
    const params = doc.body.paths['/v1/contacts'].get.parameters.map((p: { name: string }) => p.name);
    expect(params.sort()).toEqual(['cursor', 'email', 'limit']);
    expect(doc.body.components.schemas.CreateContactDto.properties.email.example).toBe('ada@example.com');
  });
});
