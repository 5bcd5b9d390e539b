import { authenticate } from 'mailauth';
import { createServer, type Server } from 'node:net';
import { createTestApp, createWorkspace, eventually, TestApp, Workspace } from './support/app';
import {
  createSender,
  eventTypes,
  exampleEmail,
  MessageEvent,
  Sender,
  settledMessage,
} from './support/sending';
import { SmtpSink, startSmtpSink } from './support/smtp-sink';

describe('delivery', () => {
  let smtp: SmtpSink;
  let t: TestApp;
  let ws: Workspace;
  let sender: Sender;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await createTestApp({
      SMTP_URL: smtp.url,
      DELIVERY_MAX_ATTEMPTS: '3',
      DELIVERY_BACKOFF_MS: '200',
      SWEEP_INTERVAL_MS: '250',
      SWEEP_GRACE_MS: '500',
    });
    ws = await createWorkspace(t);
    sender = await createSender(t, ws, { name: 'Developer Team' });
  });
  afterEach(() => {
    smtp.setMailFromHandler(undefined);
    smtp.setRcptHandler(undefined);
    smtp.setDataHandler(undefined);
    smtp.reset();
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });

  const message = (uuid: string, as: Workspace = ws) => as.api('get', `/v1/messages/${uuid}`).expect(200);
  const settled = (uuid: string) => settledMessage(ws, uuid);
  const minimal = (extra: Record<string, unknown> = {}) => ({
    from: sender.email,
    to: ['someone@example.test'],
    subject: 'Hello',
    text: 'Hi',
    ...extra,
  });

  it('delivers the example send as 4 SMTP transactions, exactly as asked, DKIM-signed once for all 4', async () => {
    const res = await ws.api('post', '/v1/emails').send(exampleEmail(sender.email)).expect(202);
    const accepted: { uuid: string; recipient: string }[] = res.body.data.messages;
    await smtp.waitFor(4);
    const finals = await Promise.all(accepted.map((m) => settled(m.uuid)));

    expect(smtp.messages).toHaveLength(4);
    expect(smtp.messages.map((m) => m.envelopeTo).sort()).toEqual(
      ['audit@example.test', 'known@example.test', 'other@example.test', 'third@example.test'].map((a) => [
        a,
      ]),
    );
    const domain = await ws.api('get', `/v1/domains/${sender.domainId}`).expect(200);
    const dkimRecord = domain.body.data.records.find((r: { name: string }) =>
      r.name.includes('._domainkey.'),
    );

    for (const received of smtp.messages) {
      const { parsed, raw, envelopeFrom } = received;
      const headerBlock = raw.toString('utf8').split(/\r?\n\r?\n/)[0];
      const uuid = accepted.find((m) => m.recipient === received.envelopeTo[0])!.uuid;
      expect(envelopeFrom).toBe(sender.email);
      expect(parsed.from?.value).toEqual([{ address: sender.email, name: 'Developer Team' }]);
      expect(parsed.to && !Array.isArray(parsed.to) && parsed.to.value.map((a) => a.address)).toEqual([
        'known@example.test',
        'other@example.test',
        'third@example.test',
      ]);
      expect(headerBlock).not.toMatch(/audit@example\.test/i);
      expect(headerBlock).not.toMatch(/^bcc:/im);
      expect(parsed.replyTo?.value[0].address).toBe('support@example.test');
      expect(parsed.subject).toBe('Your receipt #1042');
      expect(parsed.headers.get('x-correlation-id')).toBe('order-1042');
      expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
      expect(parsed.headers.has('x-leadpush-tag')).toBe(false);
      expect(parsed.messageId).toBe(`<${uuid}@${sender.domain}>`);
      expect(parsed.date).toBeInstanceOf(Date);
      expect(parsed.text?.trim()).toBe('Thanks for your order.');
      expect(parsed.html).toContain('<p>Thanks for your order.</p>');

      const auth = await authenticate(raw, {
        resolver: async (name: string, type: string) => {
          if (type === 'TXT' && name === dkimRecord.name) return [[dkimRecord.value]];
          throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
        },
        trustReceived: false,
      });
      expect(auth.dkim.results).toHaveLength(1);
      expect(auth.dkim.results[0].status.result).toBe('pass');
      expect(auth.dkim.results[0].signingDomain).toBe(sender.domain);
    }
    // The copies of one request are composed and signed once: they differ only in their Message-ID.
    const signatures = smtp.messages.map(
      ({ raw }) => raw.toString('latin1').match(/^DKIM-Signature:.*(\r\n[ \t].*)*/m)?.[0],
    );
    expect(signatures[0]).toMatch(/ b=[A-Za-z0-9+/]/);
    expect(new Set(signatures).size).toBe(1);

    for (const final of finals) {
      expect(final.status).toBe('sent');
      expect(final.tag).toBe('receipt');
      expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'sent']);
      expect(final.events[2].detail).toMatchObject({ attempt: 1, smtp_code: 250 });
    }
  });

  it('sends a bcc-only message to undisclosed-recipients', async () => {
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: undefined, bcc: ['secret@example.test'] }))
      .expect(202);
    await settled(res.body.data.messages[0].uuid);
    const headerBlock = smtp.messages[0].raw.toString('utf8').split(/\r?\n\r?\n/)[0];
    expect(headerBlock).toMatch(/^To: undisclosed-recipients:;\r?$/m);
    expect(headerBlock).not.toContain('secret@example.test');
    expect(smtp.messages[0].envelopeTo).toEqual(['secret@example.test']);
  });

  it('bounces on a 5xx, suppresses the address, and never sends to it again', async () => {
    smtp.setRcptHandler((address) =>
      address === 'gone@example.test' ? { code: 550, message: '5.1.1 No such user' } : undefined,
    );
    const first = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['gone@example.test', 'fine@example.test'] }));
    const [gone, fine] = first.body.data.messages;
    const bounced = await settled(gone.uuid);
    expect(bounced.status).toBe('bounced');
    expect(eventTypes(bounced.events)).toEqual(['pending', 'sending', 'bounced']);
    expect(bounced.events[2].detail).toMatchObject({ attempt: 1, smtp_code: 550 });
    expect(String(bounced.events[2].detail.smtp_response)).toContain('No such user');
    expect((await settled(fine.uuid)).status).toBe('sent');

    const list = await ws.api('get', '/v1/suppressions').expect(200);
    expect(list.body.data).toContainEqual({
      email: 'gone@example.test',
      reason: 'hard_bounce',
      created_at: expect.any(String),
    });

    smtp.reset();
    const again = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['GONE@example.test'] }))
      .expect(202);
    const suppressed = await settled(again.body.data.messages[0].uuid);
    expect(suppressed.status).toBe('suppressed');
    expect(eventTypes(suppressed.events)).toEqual(['pending', 'sending', 'suppressed']);
    expect(smtp.rcptAttempts('gone@example.test')).toBe(0);
    expect(smtp.messages).toHaveLength(0);

    await ws.api('delete', '/v1/suppressions/gone@example.test').expect(204);
    smtp.setRcptHandler(undefined);
    const afterRemoval = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['gone@example.test'] }))
      .expect(202);
    expect((await settled(afterRemoval.body.data.messages[0].uuid)).status).toBe('sent');
  });

  const suppressedEmails = async () =>
    (await ws.api('get', '/v1/suppressions?limit=100').expect(200)).body.data.map(
      (s: { email: string }) => s.email,
    );
  const RETRIED_TO_FAILURE = ['pending', 'sending', 'deferred', 'sending', 'deferred', 'sending', 'failed'];

  it('retries a relay that refuses the sender (530 5.7.0 at MAIL FROM), ends failed, suppresses no one', async () => {
    smtp.setMailFromHandler(() => ({ code: 530, message: '5.7.0 Authentication required' }));
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['relay1@example.test', 'relay2@example.test'] }))
      .expect(202);
    for (const { uuid } of res.body.data.messages) {
      const final = await settled(uuid);
      expect(final.status).toBe('failed');
      expect(eventTypes(final.events)).toEqual(RETRIED_TO_FAILURE);
      for (const event of final.events.filter(
        (e: MessageEvent) => e.type === 'deferred' || e.type === 'failed',
      )) {
        expect(event.detail).toMatchObject({
          smtp_code: 530,
          smtp_response: '530 5.7.0 Authentication required',
        });
      }
    }
    const suppressed = await suppressedEmails();
    expect(suppressed).not.toContain('relay1@example.test');
    expect(suppressed).not.toContain('relay2@example.test');
    expect(smtp.messages).toHaveLength(0);
  });

  it('suppresses no one for a policy refusal: 550 5.7.1 at RCPT TO, 554 5.7.1 at the end of DATA', async () => {
    smtp.setRcptHandler((address) =>
      address === 'policy-rcpt@example.test' ? { code: 550, message: '5.7.1 Relaying denied' } : undefined,
    );
    smtp.setDataHandler(({ envelopeTo }) =>
      envelopeTo.includes('policy-data@example.test')
        ? { code: 554, message: '5.7.1 Message rejected by policy' }
        : undefined,
    );
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['policy-rcpt@example.test', 'policy-data@example.test'] }))
      .expect(202);
    const [rcpt, data] = await Promise.all(
      res.body.data.messages.map((m: { uuid: string }) => settled(m.uuid)),
    );
    expect(eventTypes(rcpt.events)).toEqual(RETRIED_TO_FAILURE);
    expect(rcpt.events[6].detail).toMatchObject({ smtp_code: 550 });
    expect(eventTypes(data.events)).toEqual(RETRIED_TO_FAILURE);
    expect(data.events[6].detail).toMatchObject({ smtp_code: 554 });
    expect(smtp.rcptAttempts('policy-rcpt@example.test')).toBe(3);
    expect(smtp.dataAttempts()).toBe(3);
    const suppressed = await suppressedEmails();
    expect(suppressed).not.toContain('policy-rcpt@example.test');
    expect(suppressed).not.toContain('policy-data@example.test');
  });

  it('bounces a 5xx at the end of DATA that is not about the mailbox, without suppressing the address', async () => {
    smtp.setDataHandler(() => ({ code: 552, message: '5.2.2 Mailbox full' }));
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['full@example.test'] }))
      .expect(202);
    const final = await settled(res.body.data.messages[0].uuid);
    expect(final.status).toBe('bounced');
    expect(final.events[2].detail).toMatchObject({ smtp_code: 552, smtp_response: '552 5.2.2 Mailbox full' });
    expect(await suppressedEmails()).not.toContain('full@example.test');
  });

  it('ends sent, and sends once, when recording the 250 fails the first time', async () => {
    await t.db.query(`CREATE SEQUENCE sent_event_writes`);
    await t.db.query(`
      CREATE FUNCTION fail_first_sent_event() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.type = 'sent' AND nextval('sent_event_writes') = 1 THEN
          RAISE EXCEPTION 'injected failure of the first sent event';
        END IF;
        RETURN NEW;
      END $$`);
    await t.db.query(
      `CREATE TRIGGER fail_first_sent_event BEFORE INSERT ON message_events
         FOR EACH ROW EXECUTE FUNCTION fail_first_sent_event()`,
    );
    try {
      const res = await ws
        .api('post', '/v1/emails')
        .send(minimal({ to: ['blip@example.test'] }))
        .expect(202);
      const final = await settled(res.body.data.messages[0].uuid);
      expect(final.status).toBe('sent');
      expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'sent']);
      const { rows } = await t.db.query(`SELECT last_value FROM sent_event_writes`);
      expect(Number(rows[0].last_value)).toBe(2);
      expect(smtp.messages.filter((m) => m.envelopeTo[0] === 'blip@example.test')).toHaveLength(1);
    } finally {
      await t.db.query(`DROP TRIGGER fail_first_sent_event ON message_events`);
      await t.db.query(`DROP FUNCTION fail_first_sent_event`);
      await t.db.query(`DROP SEQUENCE sent_event_writes`);
    }
  });

  it('fails after exactly DELIVERY_MAX_ATTEMPTS when the server always answers 451', async () => {
    smtp.setRcptHandler(() => ({ code: 451, message: '4.7.1 Try again later' }));
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['busy@example.test'] }))
      .expect(202);
    const final = await settled(res.body.data.messages[0].uuid);
    expect(final.status).toBe('failed');
    expect(eventTypes(final.events)).toEqual([
      'pending',
      'sending',
      'deferred',
      'sending',
      'deferred',
      'sending',
      'failed',
    ]);
    expect(
      final.events
        .filter((e: MessageEvent) => e.type === 'deferred')
        .map((e: MessageEvent) => e.detail.attempt),
    ).toEqual([1, 2]);
    expect(final.events[6].detail).toMatchObject({ attempt: 3, smtp_code: 451 });
    expect(smtp.rcptAttempts('busy@example.test')).toBe(3);
    expect(smtp.messages).toHaveLength(0);
  });

  it('retries a 451 and delivers once the server accepts', async () => {
    let refused = 0;
    smtp.setRcptHandler((address) =>
      address === 'later@example.test' && refused++ === 0 ? { code: 451, message: 'greylisted' } : undefined,
    );
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['later@example.test'] }))
      .expect(202);
    const final = await settled(res.body.data.messages[0].uuid);
    expect(final.status).toBe('sent');
    expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'deferred', 'sending', 'sent']);
    expect(final.events[2].detail).toMatchObject({ attempt: 1, smtp_code: 451 });
    expect(final.events[4].detail).toMatchObject({ attempt: 2, smtp_code: 250 });
    expect(smtp.messages.filter((m) => m.envelopeTo[0] === 'later@example.test')).toHaveLength(1);
  });

  it('delivers after the SMTP server comes back', async () => {
    await smtp.stop();
    const res = await ws
      .api('post', '/v1/emails')
      .send(minimal({ to: ['patient@example.test'] }))
      .expect(202);
    const uuid = res.body.data.messages[0].uuid;
    await eventually(async () => (await message(uuid)).body.data.status === 'deferred', { what: 'deferral' });
    await smtp.start();
    const final = await settled(uuid);
    expect(final.status).toBe('sent');
    const deferred = final.events.find((e: MessageEvent) => e.type === 'deferred');
    expect(deferred.detail).toMatchObject({
      smtp_code: null,
      smtp_response: 'connection to the relay failed',
    });
    expect(smtp.messages.filter((m) => m.envelopeTo[0] === 'patient@example.test')).toHaveLength(1);
  });

  it('fails a message whose sender stopped being sendable before delivery', async () => {
    const doomed = await createSender(t, ws, { local: 'doomed' });
    // An API-only instance on the same database: it stores and queues on a queue no worker reads,
    // so the message is still pending when its domain goes; the worker's sweeper then picks it up.
    const api = await createTestApp({ APP_ROLE: 'api', DATABASE_URL: t.config.databaseUrl });
    try {
      const res = await api.http
        .post('/v1/emails')
        .set('Authorization', `Bearer ${ws.token}`)
        .send(minimal({ from: doomed.email, to: ['x1@example.test'] }))
        .expect(202);
      await ws.api('delete', `/v1/domains/${doomed.domainId}`).expect(204);
      const final = await settled(res.body.data.messages[0].uuid);
      expect(final.status).toBe('failed');
      expect(eventTypes(final.events)).toEqual(['pending', 'sending', 'failed']);
      expect(String(final.events[2].detail.reason)).toContain('no longer a sendable address');
      expect(smtp.rcptAttempts('x1@example.test')).toBe(0);
    } finally {
      await api.close();
    }
  });

  it('ends failed, without another try, a message whose last allowed attempt was cut short', async () => {
    // An API-only instance queues on a queue no worker reads: the message waits for the sweeper,
    // and meanwhile is left as a worker that died during attempt DELIVERY_MAX_ATTEMPTS leaves it.
    const api = await createTestApp({ APP_ROLE: 'api', DATABASE_URL: t.config.databaseUrl });
    try {
      const res = await api.http
        .post('/v1/emails')
        .set('Authorization', `Bearer ${ws.token}`)
        .send(minimal({ to: ['cut-short@example.test'] }))
        .expect(202);
      const uuid = res.body.data.messages[0].uuid;
      const left = await t.db.query(
        `UPDATE messages SET status = 'sending', attempts = $2, lease_until = now() - interval '1 second'
          WHERE id = $1 AND status = 'pending'`,
        [uuid, t.config.delivery.maxAttempts],
      );
      expect(left.rowCount).toBe(1);
      const final = await settled(uuid);
      expect(final.status).toBe('failed');
      expect(eventTypes(final.events)).toEqual(['pending', 'failed']);
      expect(final.events[1].detail).toMatchObject({ attempt: t.config.delivery.maxAttempts });
      expect(String(final.events[1].detail.reason)).toContain('cut short');
      expect(smtp.rcptAttempts('cut-short@example.test')).toBe(0);
    } finally {
      await api.close();
    }
  });

  describe('reading messages back', () => {
    it('lists newest first, filters by status, recipient and tag, and pages with a cursor', async () => {
      const tagged = await ws
        .api('post', '/v1/emails')
        .send(
          minimal({
            to: ['list1@example.test', 'list2@example.test', 'list3@example.test'],
            headers: { 'X-Leadpush-Tag': 'listing' },
          }),
        )
        .expect(202);
      await Promise.all(tagged.body.data.messages.map((m: { uuid: string }) => settled(m.uuid)));

      const byTag = await ws.api('get', '/v1/messages?tag=listing').expect(200);
      expect(byTag.body.data.map((m: { recipient: string }) => m.recipient).sort()).toEqual([
        'list1@example.test',
        'list2@example.test',
        'list3@example.test',
      ]);
      expect(byTag.body.data[0]).toEqual({
        uuid: expect.any(String),
        recipient: expect.any(String),
        type: 'to',
        from: sender.email,
        subject: 'Hello',
        status: 'sent',
        tag: 'listing',
        contact_id: null,
        created_at: expect.any(String),
        scheduled_at: null,
        source: 'api',
        test: false,
      });

      const byRecipient = await ws.api('get', '/v1/messages?recipient=LIST2@example.test').expect(200);
      expect(byRecipient.body.data.map((m: { recipient: string }) => m.recipient)).toEqual([
        'list2@example.test',
      ]);

      const byStatus = await ws.api('get', '/v1/messages?status=bounced').expect(200);
      expect(byStatus.body.data.every((m: { status: string }) => m.status === 'bounced')).toBe(true);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { data: { uuid: string }[]; next_cursor: string | null } } = await ws
          .api('get', `/v1/messages?tag=listing&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
          .expect(200);
        seen.push(...page.body.data.map((m) => m.uuid));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen.sort()).toEqual(tagged.body.data.messages.map((m: { uuid: string }) => m.uuid).sort());

      await ws.api('get', '/v1/messages?status=unknown').expect(422);
      await ws.api('get', '/v1/messages?cursor=garbage').expect(422);
    });

    it("keeps each workspace's messages and suppressions to itself", async () => {
      const res = await ws
        .api('post', '/v1/emails')
        .send(minimal({ to: ['private@example.test'] }))
        .expect(202);
      const uuid = res.body.data.messages[0].uuid;
      const other = await createWorkspace(t);
      const notFound = await other.api('get', `/v1/messages/${uuid}`).expect(404);
      expect(notFound.body.error).toBe('not_found');
      await other.api('get', '/v1/messages/not-a-uuid').expect(404);
      expect((await other.api('get', '/v1/messages').expect(200)).body.data).toEqual([]);
      expect(
        (await other.api('get', '/v1/messages?recipient=private@example.test').expect(200)).body.data,
      ).toEqual([]);

      await ws.api('post', '/v1/suppressions').send({ email: 'Manual@Example.test' }).expect(201);
      await ws.api('post', '/v1/suppressions').send({ email: 'manual@example.test' }).expect(200);
      expect((await other.api('get', '/v1/suppressions').expect(200)).body.data).toEqual([]);
      await other.api('delete', '/v1/suppressions/manual@example.test').expect(404);
      const mine = await ws.api('get', '/v1/suppressions').expect(200);
      expect(mine.body.data).toContainEqual({
        email: 'manual@example.test',
        reason: 'manual',
        created_at: expect.any(String),
      });
    });
  });
});

/**
 * A relay that answers RCPT TO with a reply containing NUL, which a real SMTP
 * server library would never write (smtp-server replaces control characters).
 */
async function startNulRelay(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    socket.write('220 nul.test ESMTP\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const command = buffered.slice(0, end).toUpperCase();
        buffered = buffered.slice(end + 2);
        if (command.startsWith('RCPT')) socket.write('550 5.1.1 no\0body here\r\n');
        else if (command.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a relay reply with a NUL character', () => {
  it('is stored without it, and the message still bounces', async () => {
    const relay = await startNulRelay();
    const t = await createTestApp({ SMTP_URL: relay.url });
    try {
      const ws = await createWorkspace(t);
      const sender = await createSender(t, ws);
      const res = await ws
        .api('post', '/v1/emails')
        .send({ from: sender.email, to: ['nul@example.test'], subject: 'NUL', text: 'x' })
        .expect(202);
      const uuid = res.body.data.messages[0].uuid;
      const final = await settledMessage(ws, uuid);
      expect(final.status).toBe('bounced');
      expect(final.events[2].detail).toMatchObject({
        smtp_code: 550,
        smtp_response: '550 5.1.1 nobody here',
      });
    } finally {
      await t.close();
      await relay.close();
    }
  });
});
