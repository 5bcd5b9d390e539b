import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawSmtp, type Reply } from './smtp-client';

const FIXTURES = join(__dirname, '..', 'fixtures', 'reports');
/** The return path the fixtures were written with. */
export const FIXTURE_RETURN_PATH = 'b-return-path@bounces.example.com';

/** A fixture of test/fixtures/reports with CRLF line ends, each `[from, to]` replaced. */
export function reportFixture(name: string, replacements: [string, string][] = []): Buffer {
  let text = readFileSync(join(FIXTURES, name), 'latin1').replace(/\r\n/g, '\n');
  for (const [from, to] of replacements) text = text.split(from).join(to);
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');
}

export interface Delivered {
  mailFrom: Reply;
  rcptTo: Reply[];
  /** The reply to the end of DATA; null when no recipient was accepted. */
  data: Reply | null;
  ehlo: Reply;
}

/** One SMTP transaction to the inbound listener, with the server's exact replies. */
export async function deliverReport(
  port: number,
  { from = '', to, raw }: { from?: string; to: string[]; raw: Buffer },
): Promise<Delivered> {
  const smtp = await rawSmtp(port);
  try {
    const ehlo = await smtp.command('EHLO reporter.test');
    const mailFrom = await smtp.command(`MAIL FROM:<${from}>`);
    const rcptTo: Reply[] = [];
    for (const address of to) rcptTo.push(await smtp.command(`RCPT TO:<${address}>`));
    if (!rcptTo.some((reply) => reply.code === 250)) return { ehlo, mailFrom, rcptTo, data: null };
    await smtp.command('DATA');
    const body = raw.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
    const data = await smtp.send(Buffer.from(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'));
    await smtp.command('QUIT').catch(() => undefined);
    return { ehlo, mailFrom, rcptTo, data };
  } finally {
    smtp.close();
  }
}
