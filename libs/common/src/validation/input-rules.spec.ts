import { findInputProblems, isStorableString, unstorableReason } from './input-rules';

describe('unstorableReason', () => {
  it('refuses NUL and lone surrogates, anywhere in the string', () => {
    expect(unstorableReason('a\0b')).toBe('must not contain NUL characters');
    for (const lone of ['\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ud83d\ud83d\ude00x']) {
      expect(unstorableReason(lone)).toBe('must be well-formed Unicode (no lone surrogates)');
    }
  });

  it('accepts any well-formed string, astral characters included', () => {
    for (const fine of ['', 'plain', '😀', 'İ', '\ufffd', '\uffff', '\u2028']) {
      expect(unstorableReason(fine)).toBeNull();
      expect(isStorableString(fine)).toBe(true);
    }
    expect(isStorableString(5)).toBe(false);
  });
});

describe('findInputProblems', () => {
  it('finds unstorable strings in nested values and keys, with their paths, in order', () => {
    expect(
      findInputProblems({ a: 'ok', b: ['x', 'y\0'], c: { 'k\0': 'never looked at\0', d: '\ud800' } }),
    ).toEqual([
      { field: 'b[1]', message: 'must not contain NUL characters' },
      { field: 'c.k\\0', message: 'must not contain NUL characters' },
      { field: 'c.d', message: 'must be well-formed Unicode (no lone surrogates)' },
    ]);
    expect(findInputProblems('\0', 'id')).toEqual([
      { field: 'id', message: 'must not contain NUL characters' },
    ]);
    expect(findInputProblems({ a: 1, b: null, c: ['fine', '😀'], d: true })).toEqual([]);
  });

  it('spells lone surrogates in keys as escapes', () => {
    expect(findInputProblems({ headers: { 'X-\udc00': 'v' } })).toEqual([
      { field: 'headers.X-\\udc00', message: 'must be well-formed Unicode (no lone surrogates)' },
    ]);
  });

  it('refuses __proto__ and constructor keys at any depth, as JSON.parse makes them', () => {
    const body = JSON.parse(
      '{"__proto__": {"x": 1}, "constructor": "c", "headers": {"constructor": "v"}, "to": [{"__proto__": null}]}',
    );
    const message = '__proto__ and constructor are not allowed as keys';
    expect(findInputProblems(body)).toEqual([
      { field: '__proto__', message },
      { field: 'constructor', message },
      { field: 'headers.constructor', message },
      { field: 'to[0].__proto__', message },
    ]);
    expect(findInputProblems({ prototype: 1, toString: 'x', hasOwnProperty: 'y' })).toEqual([]);
  });

  it('reports at most 100 problems, however many there are', () => {
    expect(findInputProblems(Array.from({ length: 100_000 }, () => '\0'))).toHaveLength(100);
  });
});
