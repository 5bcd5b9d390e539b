import type { ErrorCode } from './error-codes';

/**
 * The error codes declared for each operation, by its default operationId
 * (`<Controller>_<method>`): what documentErrors() adds to the derived ones.
 */
export const DECLARED_ERRORS = new Map<string, Set<ErrorCode>>();

const declare = (controller: string, method: string, codes: ErrorCode[]) => {
  const id = `${controller}_${method}`;
  const declared = DECLARED_ERRORS.get(id) ?? new Set<ErrorCode>();
  for (const code of codes) declared.add(code);
  DECLARED_ERRORS.set(id, declared);
};

/**
 * Documents error codes an operation can answer besides those /docs-json
 * derives from its shape (see documentErrors): on a method, for it; on a
 * controller, for each of its routes (e.g. the codes of a guard it applies).
 */
export function ApiErrors(...codes: ErrorCode[]): ClassDecorator & MethodDecorator {
  return (target: object, method?: string | symbol) => {
    if (method !== undefined) {
      declare((target as { constructor: { name: string } }).constructor.name, String(method), codes);
      return;
    }
    const { prototype, name } = target as { prototype: object; name: string };
    for (const key of Object.getOwnPropertyNames(prototype)) {
      if (key !== 'constructor') declare(name, key, codes);
    }
  };
}
