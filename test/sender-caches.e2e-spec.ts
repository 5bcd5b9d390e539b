import { AddressesService } from '../src/modules/addresses/addresses.service';
import { DomainsService } from '../src/modules/addresses/domains.service';
import { createTestApp, createWorkspace, TestApp, Workspace } from './support/app';
import { createSender } from './support/sending';

/**
 * The addresses module keeps sendable senders and signing keys for the
 * sending path, and forgets them itself when they change. The TTL here is
 * longer than the test, so only that eviction can explain a fresh answer.
 */
describe('sender and signing key caches', () => {
  let t: TestApp;
  let ws: Workspace;
  let addresses: AddressesService;
  let domains: DomainsService;

  beforeAll(async () => {
    t = await createTestApp({ APP_ROLE: 'api', AUTH_CACHE_TTL_MS: '60000' });
    ws = await createWorkspace(t);
    addresses = t.app.get(AddressesService);
    domains = t.app.get(DomainsService);
  });
  afterAll(() => t.close());

  it('answers a sendable sender from the cache until its address is deleted', async () => {
    const sender = await createSender(t, ws, { local: 'cached', name: 'First' });
    expect(await addresses.findSendableCached(ws.workspaceId, 'CACHED@' + sender.domain)).toMatchObject({
      name: 'First',
    });
    await t.db.query(`UPDATE addresses SET name = 'Second' WHERE id = $1`, [sender.addressId]);
    expect(await addresses.findSendableCached(ws.workspaceId, sender.email)).toMatchObject({ name: 'First' });
    expect(await addresses.findSendable(ws.workspaceId, sender.email)).toMatchObject({ name: 'Second' });

    await ws.api('delete', `/v1/addresses/${sender.addressId}`).expect(204);
    expect(await addresses.findSendableCached(ws.workspaceId, sender.email)).toBeNull();
  });

  it('forgets the senders of a deleted domain', async () => {
    const sender = await createSender(t, ws, { local: 'doomed' });
    expect(await addresses.findSendableCached(ws.workspaceId, sender.email)).not.toBeNull();
    await ws.api('delete', `/v1/domains/${sender.domainId}`).expect(204);
    expect(await addresses.findSendableCached(ws.workspaceId, sender.email)).toBeNull();
  });

  it('keeps a signing key until its domain is verified or deleted', async () => {
    const created = await ws.api('post', '/v1/domains').send({ name: 'keys.developer.test' }).expect(201);
    const id: string = created.body.data.id;
    expect(await domains.getSigningKey(ws.workspaceId, id)).toBeNull();

    await t.admin('post', `/admin/v1/domains/${id}/verify`).expect(200);
    const key = await domains.getSigningKey(ws.workspaceId, id);
    expect(key).toMatchObject({
      domainName: 'keys.developer.test',
      privateKey: expect.objectContaining({ type: 'private', asymmetricKeyType: 'rsa' }),
    });

    await t.db.query(`UPDATE domains SET dkim_selector = 'changed' WHERE id = $1`, [id]);
    expect((await domains.getSigningKey(ws.workspaceId, id))?.selector).toBe(key!.selector);

    await ws.api('delete', `/v1/domains/${id}`).expect(204);
    expect(await domains.getSigningKey(ws.workspaceId, id)).toBeNull();
  });
});
