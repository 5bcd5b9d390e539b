import DKIM from 'nodemailer/lib/dkim';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Readable } from 'node:stream';

/** A file carried by a message; one with `contentId` is inline, referenced from the HTML as `cid:<contentId>`. */
export interface MimeAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  contentId?: string;
}

/** Everything the headers and body of one message are made of (SPEC §8). */
export interface MimeFields {
  from: { name: string | null; address: string };
  /** The To header: the request's `to` recipients (empty: undisclosed-recipients). */
  to: string[];
  replyTo: string | null;
  subject: string;
  html: string | null;
  text: string | null;
  messageId: string;
  headers: Record<string, string>;
  attachments?: MimeAttachment[];
}

/** The sender domain's key a message is signed with. */
export interface DkimKey {
  domainName: string;
  selector: string;
  /** PEM. */
  privateKey: string;
}

/**
 * The To header of a message with no visible recipients. nodemailer would
 * quote the group name, so this one header line is added to the built message.
 */
const UNDISCLOSED_TO = Buffer.from('To: undisclosed-recipients:;\r\n');

/**
 * Builds the MIME bytes of a message and signs them with `dkim`, so a
 * transport only hands bytes over. Attachments become `multipart/mixed`
 * parts, inline ones (with a Content-ID) `multipart/related` parts beside the
 * HTML, each with its filename and content type.
 */
export async function composeMime(fields: MimeFields, dkim: DkimKey | null): Promise<Buffer> {
  const built = await new MailComposer({
    from: fields.from.name ? { name: fields.from.name, address: fields.from.address } : fields.from.address,
    to: fields.to.length > 0 ? fields.to : undefined,
    replyTo: fields.replyTo ?? undefined,
    subject: fields.subject,
    html: fields.html ?? undefined,
    text: fields.text ?? undefined,
    messageId: fields.messageId,
    headers: fields.headers,
    attachments: (fields.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      ...(a.contentId ? { cid: a.contentId, contentDisposition: 'inline' as const } : {}),
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
  })
    .compile()
    .build();
  return signMime(fields.to.length > 0 ? built : Buffer.concat([UNDISCLOSED_TO, built]), dkim);
}

/** A message's bytes signed with `dkim` (the DKIM-Signature header added on top); as they are without a key. */
export async function signMime(message: Buffer, dkim: DkimKey | null): Promise<Buffer> {
  if (!dkim) return message;
  const signer = new DKIM({
    domainName: dkim.domainName,
    keySelector: dkim.selector,
    privateKey: dkim.privateKey,
  });
  return readAll(signer.sign(message));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
