import { Composition, composeMime, DkimKey, MimeFields } from './mime-composer';
import { composeRaw, RawRewrite } from './raw-composer';

/** What one composition is made from: a request's fields (API), or the raw message its SMTP client wrote. */
export type CompositionTask =
  | { kind: 'mime'; fields: MimeFields; dkim: DkimKey | null }
  | { kind: 'raw'; raw: Buffer; rewrite: RawRewrite; dkim: DkimKey | null };

export function compose(task: CompositionTask): Promise<Composition> {
  return task.kind === 'mime'
    ? composeMime(task.fields, task.dkim)
    : composeRaw(task.raw, task.rewrite, task.dkim);
}

/**
 * A task as it arrives in another thread: structured cloning turns its
 * Buffers into plain Uint8Arrays (a KeyObject and a Date arrive as they were).
 */
export function revive(task: CompositionTask): CompositionTask {
  if (task.kind === 'raw') return { ...task, raw: asBuffer(task.raw) };
  const attachments = task.fields.attachments?.map((a) => ({ ...a, content: asBuffer(a.content) }));
  return { ...task, fields: { ...task.fields, ...(attachments ? { attachments } : {}) } };
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
