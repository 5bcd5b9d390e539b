import { Client } from 'pg';
import {
  createTestApp,
  createWorkspace,
  dropDatabase,
  eventually,
  newDatabaseUrl,
  TestApp,
  Workspace,
} from './support/app';
import { PgProxy, startPgProxy } from './support/pg-proxy';
import { createSender, Sender } from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

const OUTAGE_MS = 5000;

describe('PostgreSQL unreachable while deliveries are in flight', () => {
  const databaseUrl = newDatabaseUrl('pgdown');
  let proxy: PgProxy;
  let smtp: SmtpSink;
  let t: TestApp;
  let db: Client;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    proxy = await startPgProxy(databaseUrl);
    smtp = await startSmtpSink();
    t = await createTestApp({
      DATABASE_URL: proxy.url,
      SMTP_URL: smtp.url,
      DELIVERY_CONCURRENCY: '4',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '1000',
    });
    // The app's own assertion connection goes through the proxy and dies with the outage.
    t.db.on('error', () => undefined);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    ws = await createWorkspace(t);
    sender = await createSender(t, ws);
  });
  afterAll(async () => {
    await t?.close();
    await db?.end();
    await proxy?.close();
    await smtp?.close();
    await dropDatabase(databaseUrl);
  });

  const statuses = async () => {
    const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM messages GROUP BY status`);
    return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
  };

  it('records every outcome once it is back: all sent, none received twice', async () => {
    smtp.setDelay(150);
    const recipients = Array.from({ length: 48 }, (_, i) => `down${i}@example.test`);
    await ws
      .api('post', '/v1/emails')
      .send({ from: sender.email, to: recipients, subject: 'outage', text: 'x' })
      .expect(202);
    await smtp.waitFor(8, 30000);
    // Down while the relay holds a message (in its delay): that message is `sending`, and the
    // relay will take it. Between two waves of claims none may be, as a wave's claims and
    // outcomes are written together.
    await eventually(async () => smtp.dataAttempts() > smtp.messages.length, {
      intervalMs: 5,
      what: "a message in the relay's hands",
    });
    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 2));
    // Sends that the relay took while the database was gone: their outcome is still to be written.
    expect((await statuses()).sending).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 2));
    proxy.up();

    await eventually(async () => (await statuses()).sent === recipients.length, {
      timeoutMs: 90000,
      what: 'every message sent after the outage',
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}; statuses ${JSON.stringify(await statuses())}`);
    });
    const received = smtp.messages.map((m) => m.envelopeTo[0]);
    expect(received.sort()).toEqual([...recipients].sort());
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM message_events WHERE type = 'sent'`);
    expect(rows[0].n).toBe(recipients.length);
  }, 150_000);
});
