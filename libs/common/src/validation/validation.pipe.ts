import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { FieldError, ValidationFailedError } from '../errors';

/**
 * Custom validators (see decorators.ts) may name a part of their property: a
 * message line that starts with `[` or `.` ("[1] must be an email address",
 * ".X-Foo is reserved") is reported on `property[1]` / `property.X-Foo`.
 */
const SUB_PATH = /^(\[[^\]]*\]|\.[^\s:]+):?\s+(.*)$/s;

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    for (const constraint of Object.values(error.constraints ?? {})) {
      for (const line of constraint.split('\n')) {
        const sub = SUB_PATH.exec(line);
        result.push(sub ? { field: `${field}${sub[1]}`, message: sub[2] } : { field, message: line });
      }
    }
    if (error.children?.length) result.push(...flattenValidationErrors(error.children, field));
  }
  return result;
}

/** The global pipe: whitelist, reject unknown fields, transform, SPEC §3 422 envelope. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flattenValidationErrors(errors)),
  });
}
