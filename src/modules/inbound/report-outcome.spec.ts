import { isHardBounceStatus, outcomeFor } from './report-outcome';
import type { RecipientBlock, Report } from './report-parser';

const block = (over: Partial<RecipientBlock>): RecipientBlock => ({
  finalRecipient: 'user@example.org',
  originalRecipient: null,
  action: 'failed',
  status: '5.1.1',
  diagnosticCode: 'smtp; 550 5.1.1 no such user',
  remoteMta: 'mx.example.org',
  ...over,
});
const dsn = (...blocks: RecipientBlock[]): Report => ({ kind: 'dsn', blocks, original: null });
const message = { recipient: 'user@example.org', test: false };

describe('outcomeFor', () => {
  it('suppresses on 5.1.x and 5.2.1 only', () => {
    expect(['5.1.1', '5.1.10', '5.1.2', '5.2.1'].every(isHardBounceStatus)).toBe(true);
    expect(['5.2.2', '5.7.1', '4.1.1', '5.0.0', '5.1', '5.2.10'].some(isHardBounceStatus)).toBe(false);
    expect(isHardBounceStatus(null)).toBe(false);
  });

  it('bounces on the failed block about its recipient, with the DSN detail', () => {
    expect(outcomeFor(dsn(block({})), message)).toEqual({
      kind: 'bounce',
      suppress: true,
      detail: {
        dsn: true,
        status: '5.1.1',
        diagnostic_code: 'smtp; 550 5.1.1 no such user',
        remote_mta: 'mx.example.org',
      },
    });
    expect(outcomeFor(dsn(block({ status: '5.2.2' })), message)).toMatchObject({
      kind: 'bounce',
      suppress: false,
    });
  });

  it('counts only the block about its recipient, by Final- or Original-Recipient', () => {
    const other = block({ finalRecipient: 'other@example.org' });
    expect(outcomeFor(dsn(other), message)).toEqual({ kind: 'drop', reason: 'no block about its recipient' });
    const renamed = block({
      finalRecipient: 'alias@internal.example',
      originalRecipient: 'user@example.org',
    });
    expect(outcomeFor(dsn(other, renamed), message)).toMatchObject({ kind: 'bounce' });
  });

  it('reads past a delayed block: a later failed one wins, a lone delayed one is a delay', () => {
    const delayed = block({ action: 'delayed', status: '4.4.1' });
    expect(outcomeFor(dsn(delayed, block({})), message)).toMatchObject({ kind: 'bounce', suppress: true });
    expect(outcomeFor(dsn(delayed), message)).toMatchObject({ kind: 'delay', detail: { status: '4.4.1' } });
    expect(outcomeFor(dsn(block({ action: 'delivered', status: '2.0.0' })), message)).toEqual({
      kind: 'drop',
      reason: 'no failed or delayed block',
    });
  });

  it('never suppresses for a test message', () => {
    const test = { ...message, test: true };
    expect(outcomeFor(dsn(block({})), test)).toMatchObject({ kind: 'bounce', suppress: false });
    const complaint: Report = {
      kind: 'complaint',
      feedbackType: 'abuse',
      userAgent: null,
      originalMailFrom: null,
      originalRcptTo: [],
      original: null,
    };
    expect(outcomeFor(complaint, test)).toMatchObject({ kind: 'complaint', suppress: false });
    expect(outcomeFor(complaint, message)).toEqual({
      kind: 'complaint',
      suppress: true,
      detail: { arf: true, feedback_type: 'abuse', user_agent: null },
    });
  });

  it('reads a plain-text bounce only where it names the recipient, as dsn: false', () => {
    const text = '<user@example.org>:\nSorry, no mailbox here by that name. (#5.1.1)';
    expect(outcomeFor({ kind: 'plain-bounce', text, original: null }, message)).toMatchObject({
      kind: 'bounce',
      suppress: true,
      detail: { dsn: false, status: '5.1.1' },
    });
    expect(outcomeFor({ kind: 'plain-bounce', text: 'nothing here', original: null }, message)).toMatchObject(
      {
        kind: 'drop',
      },
    );
  });
});
