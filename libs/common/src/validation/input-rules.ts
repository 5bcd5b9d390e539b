import type { FieldError } from '../errors';

/**
 * Rules every input obeys, whatever its field: strings PostgreSQL can store
 * (in text, varchar and jsonb), and no key that JSON.parse makes an own
 * property but class-transformer drops without a word.
 */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor']);

/** Enough to tell a client what is wrong; a 10 MB body of bad strings must not make a larger answer. */
const MAX_REPORTED = 100;

/** Why PostgreSQL cannot store `value`, or null when it can. */
export function unstorableReason(value: string): string | null {
  if (value.includes('\0')) return 'must not contain NUL characters';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

/** A string PostgreSQL can store: no NUL, no lone surrogate. */
export function isStorableString(value: unknown): value is string {
  return typeof value === 'string' && unstorableReason(value) === null;
}

/** A path as it can be shown in an error: NUL and lone surrogates spelled as escapes. */
function printable(path: string): string {
  return path
    .replace(/\0/g, '\\0')
    .replace(/\p{Cs}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Every unstorable string (values and keys) and every `__proto__` or
 * `constructor` key inside `value`, named by its path (`to[1]`,
 * `headers.X-Foo`); `path` names `value` itself. A refused key is reported
 * instead of its value. Iterative, in order of appearance, at most
 * MAX_REPORTED problems.
 */
export function findInputProblems(value: unknown, path = ''): FieldError[] {
  const problems: FieldError[] = [];
  const stack: { value: unknown; path: string; key?: string }[] = [{ value, path }];
  while (stack.length > 0 && problems.length < MAX_REPORTED) {
    const { value: item, path: at, key } = stack.pop()!;
    const keyReason =
      key === undefined
        ? null
        : FORBIDDEN_KEYS.has(key)
          ? '__proto__ and constructor are not allowed as keys'
          : unstorableReason(key);
    const reason = keyReason ?? (typeof item === 'string' ? unstorableReason(item) : null);
    if (reason) problems.push({ field: printable(at), message: reason });
    if (keyReason || item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push({ value: item[i], path: `${at}[${i}]` });
    } else {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [name, child] = entries[i];
        stack.push({ value: child, path: at ? `${at}.${name}` : name, key: name });
      }
    }
  }
  return problems;
}
