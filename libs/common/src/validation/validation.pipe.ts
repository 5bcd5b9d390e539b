import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { FieldError, ValidationFailedError } from '../errors';
import { findInputProblems } from './input-rules';

/** One entry per field, in order of appearance, its messages joined. */
export function flattenValidationErrors(errors: ValidationError[]): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const { field, message } of collect(errors, '')) {
    const messages = byField.get(field) ?? [];
    if (!messages.includes(message)) messages.push(message);
    byField.set(field, messages);
  }
  return [...byField].map(([field, messages]) => ({ field, message: messages.join('; ') }));
}

function collect(errors: ValidationError[], parent: string): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    for (const message of Object.values(error.constraints ?? {})) result.push({ field, message });
    if (error.children?.length) result.push(...collect(error.children, field));
  }
  return result;
}

/**
 * Class-validator with the SPEC §3 envelope, and the rules of every input
 * (input-rules.ts) checked first, on body, query and route params alike:
 * validators such as isEmail must only ever see storable strings.
 */
class AppValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const problems = findInputProblems(value, metadata.type === 'param' ? (metadata.data ?? '') : '');
      if (problems.length > 0) {
        throw new ValidationFailedError(
          problems.map(({ field, message }) => ({ field: field || metadata.type, message })),
        );
      }
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe: whitelist, reject unknown fields, transform, SPEC §3 422 envelope. */
export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flattenValidationErrors(errors)),
  });
}
