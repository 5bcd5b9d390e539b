import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { isEmail, IsNotEmpty, IsString, ValidateBy, ValidateIf } from 'class-validator';
import { isStorableString } from './input-rules';

export const MAX_EMAIL_LENGTH = 254;

/** Trims and lower-cases an email address; leaves non-strings for the validators to refuse. */
export function normalizeEmail(value: string): string;
export function normalizeEmail(value: unknown): unknown;
export function normalizeEmail(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : value;
}

/**
 * Characters no address may hold, quoted local parts included: control
 * characters (CR and LF among them) and the `<`, `>` and `,` that would turn
 * one address into several or into a header of its own.
 */
const NOT_IN_ADDRESSES = /[\u0000-\u001f\u007f-\u009f<>,]/;

/**
 * A bare address (no display name) with a dotted domain, at most 254
 * characters. Only storable strings reach isEmail (it throws on lone surrogates).
 */
export function isValidEmail(value: unknown): value is string {
  return (
    isStorableString(value) &&
    value.length <= MAX_EMAIL_LENGTH &&
    !NOT_IN_ADDRESSES.test(value) &&
    isEmail(value, { allow_display_name: false, require_tld: true, allow_ip_domain: false })
  );
}

/** A required email address, normalized (trimmed, lower-cased), then validated as it will be stored. */
export function IsNormalizedEmail(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => normalizeEmail(value)),
    ValidateBy({
      name: 'isNormalizedEmail',
      validator: {
        validate: isValidEmail,
        defaultMessage: () => '$property must be a valid email address',
      },
    }),
  );
}

/** May be left out, but not null: the other validators then run on any given value. */
export function IsOmittable(): PropertyDecorator {
  return ValidateIf((_, value) => value !== undefined);
}

/** Whether `value` has at most `max` code points; never counts more than 2 × max code units. */
export function codePointsAtMost(value: string, max: number): boolean {
  if (value.length <= max) return true;
  return value.length <= 2 * max && [...value].length <= max;
}

/**
 * At most `max` characters as PostgreSQL's varchar(max) counts them: code
 * points. (class-validator's MaxLength counts a character and the variation
 * selector after it as one, so it passes strings the column refuses.)
 */
export function HasAtMostCharacters(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'hasAtMostCharacters',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || codePointsAtMost(value, max),
      defaultMessage: () => `$property must be at most ${max} characters`,
    },
  });
}

/** A non-empty, trimmed single-line name of at most `max` characters. */
export function IsName(max = 200): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => (typeof value === 'string' ? value.trim() : value)),
    IsString(),
    IsNotEmpty(),
    HasAtMostCharacters(max),
    IsSingleLine(),
  );
}

/** A string without CR or LF (header injection). */
export function IsSingleLine(): PropertyDecorator {
  return ValidateBy({
    name: 'isSingleLine',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !/[\r\n]/.test(value),
      defaultMessage: () => '$property must not contain line breaks',
    },
  });
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
