import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsString, MaxLength, ValidateBy } from 'class-validator';

export const MAX_EMAIL_LENGTH = 254;

/** Trims and lower-cases an email address; leaves non-strings for the validators to refuse. */
export function normalizeEmail(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

/** A required email address, normalized (trimmed, lower-cased). */
export function IsNormalizedEmail(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => normalizeEmail(value)),
    IsString(),
    MaxLength(MAX_EMAIL_LENGTH),
    IsEmail(
      { allow_display_name: false, require_tld: false },
      { message: '$property must be a valid email address' },
    ),
  );
}

/** A non-empty, trimmed single-line name of at most `max` characters. */
export function IsName(max = 200): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    IsNotEmpty(),
    MaxLength(max),
  );
}

/** A plain object (not an array or null) whose values all pass `isValue`. */
export function isPlainObjectOf(value: unknown, isValue: (v: unknown) => boolean): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every(isValue)
  );
}

/** A map of feature flags: `{"smtp.enabled": true}`. */
export function IsFeatureMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isFeatureMap',
    validator: {
      validate: (value: unknown) =>
        isPlainObjectOf(value, (v) => typeof v === 'boolean') &&
        Object.keys(value as object).length <= 50 &&
        Object.keys(value as object).every((k) => /^[a-z0-9_.-]{1,64}$/i.test(k)),
      defaultMessage: () => '$property must be an object of at most 50 flags with boolean values',
    },
  });
}
