import DKIM from 'nodemailer/lib/dkim';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';

/** A file carried by a message; one with `contentId` is inline, referenced from the HTML as `cid:<contentId>`. */
export interface MimeAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  contentId?: string;
}

/**
 * Everything the headers and body of a request's messages are made of (SPEC
 * §8), but their Message-ID: the copies of one request share all of it.
 */
export interface MimeFields {
  from: { name: string | null; address: string };
  /** The To header: the request's `to` recipients (empty: undisclosed-recipients). */
  to: string[];
  replyTo: string | null;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  attachments?: MimeAttachment[];
}

/** The sender domain's key a message is signed with. */
export interface DkimKey {
  domainName: string;
  selector: string;
  privateKey: KeyObject;
}

/**
 * What every copy of a request shares: its bytes, composed and signed once.
 * Message-ID, the one header each copy has of its own, is not among them and
 * not signed (RFC 6376 §5.4.1 does not list it among the fields to sign), so
 * one RSA signature and one composition serve every recipient of a request.
 */
export interface Composition {
  bytes: Buffer;
  /** Whether each copy gets its own Message-ID (false: the bytes carry the client's, shared by all copies). */
  addsMessageId: boolean;
}

/** The bytes of one copy: the composition with the copy's Message-ID on top when it takes one. */
export function copyOf(composition: Composition, messageId: string): Buffer {
  if (!composition.addsMessageId) return composition.bytes;
  return Buffer.concat([Buffer.from(`Message-ID: ${messageId}\r\n`), composition.bytes]);
}

/**
 * nodemailer always writes a Message-ID; the composer names this one and
 * takes its line out again, so the composition has none of its own.
 */
const PLACEHOLDER_ID = '<composition@leadpush.invalid>';
const PLACEHOLDER_LINE = Buffer.from(`Message-ID: ${PLACEHOLDER_ID}\r\n`);
const CRLF = Buffer.from('\r\n');

/**
 * The To header of a message with no visible recipients. nodemailer would
 * quote the group name, so this one header line is added to the built message.
 */
const UNDISCLOSED_TO = Buffer.from('To: undisclosed-recipients:;\r\n');

/**
 * Builds the MIME bytes of a request's messages and signs them with `dkim`,
 * so a transport only hands bytes over (see Composition). Attachments become
 * `multipart/mixed` parts, inline ones (with a Content-ID) `multipart/related`
 * parts beside the HTML, each with its filename and content type.
 */
export async function composeMime(fields: MimeFields, dkim: DkimKey | null): Promise<Composition> {
  const built = await new MailComposer({
    from: fields.from.name ? { name: fields.from.name, address: fields.from.address } : fields.from.address,
    to: fields.to.length > 0 ? fields.to : undefined,
    replyTo: fields.replyTo ?? undefined,
    subject: fields.subject,
    html: fields.html ?? undefined,
    text: fields.text ?? undefined,
    messageId: PLACEHOLDER_ID,
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
  const withoutId = withoutPlaceholderId(built);
  const bytes = await signMime(
    fields.to.length > 0 ? withoutId : Buffer.concat([UNDISCLOSED_TO, withoutId]),
    dkim,
  );
  return { bytes, addsMessageId: true };
}

/** The built message without the placeholder's header line, a line of its own in the top-level header block. */
function withoutPlaceholderId(built: Buffer): Buffer {
  const headerLines = built.subarray(0, built.indexOf('\r\n\r\n') + CRLF.length);
  // Searched for after a line break, in the header block with one put in front: the offset found is the line's own.
  const at = Buffer.concat([CRLF, headerLines]).indexOf(Buffer.concat([CRLF, PLACEHOLDER_LINE]));
  if (at < 0) throw new Error('the composed message has no placeholder Message-ID line');
  return Buffer.concat([built.subarray(0, at), built.subarray(at + PLACEHOLDER_LINE.length)]);
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
