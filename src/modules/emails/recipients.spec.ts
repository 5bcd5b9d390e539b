import { normalizeEmail } from '@app/common';
import { planRecipients, splitTag } from './recipients';

describe('planRecipients', () => {
  it('normalizes, dedupes case-insensitively, keeps to order then bcc, and to wins', () => {
    expect(
      planRecipients(
        ['B@x.test', ' a@x.test ', 'b@X.TEST'],
        ['c@x.test', 'A@x.test', 'd@x.test', 'C@x.test'],
      ),
    ).toEqual([
      { email: 'b@x.test', type: 'to' },
      { email: 'a@x.test', type: 'to' },
      { email: 'c@x.test', type: 'bcc' },
      { email: 'd@x.test', type: 'bcc' },
    ]);
  });

  it('stores exactly what the DTO validated: normalizeEmail of each address', () => {
    const raw = ' İnfo@X.test ';
    expect(planRecipients([raw])).toEqual([{ email: normalizeEmail(raw), type: 'to' }]);
    expect(normalizeEmail(raw)).toBe('i\u0307nfo@x.test');
  });

  it('handles bcc only, and null lists as absent', () => {
    expect(planRecipients(undefined, ['z@x.test'])).toEqual([{ email: 'z@x.test', type: 'bcc' }]);
    expect(planRecipients(['a@x.test'], null)).toEqual([{ email: 'a@x.test', type: 'to' }]);
  });
});

describe('splitTag', () => {
  it('takes the tag header out in any case and keeps the others', () => {
    expect(splitTag({ 'x-leadpush-TAG': 'welcome', 'X-Other': '1' }, 'x-leadpush-tag')).toEqual({
      headers: { 'X-Other': '1' },
      tag: 'welcome',
    });
    expect(splitTag(undefined, 'x-leadpush-tag')).toEqual({ headers: {}, tag: null });
    expect(splitTag(null, 'x-leadpush-tag')).toEqual({ headers: {}, tag: null });
  });
});
