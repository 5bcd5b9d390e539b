import { ValidationFailedError } from '../errors';

/** Deepest nesting of objects and arrays a request body may have. */
export const MAX_JSON_DEPTH = 32;

/** Whether objects and arrays inside `value` nest deeper than `max`; iterative, so any depth is safe to check. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Express middleware after the JSON parser: a body nested deeper than
 * MAX_JSON_DEPTH is refused before anything walks it recursively.
 */
export function rejectDeepJson(
  req: { body?: unknown },
  _res: unknown,
  next: (error?: unknown) => void,
): void {
  if (nestsDeeperThan(req.body, MAX_JSON_DEPTH)) {
    return next(
      new ValidationFailedError([
        { field: 'body', message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` },
      ]),
    );
  }
  next();
}
