import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';

const MAX_HOSTNAME_LENGTH = 253;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Trims, lower-cases and drops one trailing dot; leaves non-strings for the validator to refuse. */
export function normalizeHostname(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase().replace(/\.$/, '') : value;
}

/**
 * A normalized DNS hostname a workspace can send from: at least two labels of
 * letters, digits and inner hyphens (1-63 characters each), at most 253
 * characters, and a top-level label that is not all digits (no IP addresses).
 * International names are given in their `xn--` form.
 */
export function isHostname(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_HOSTNAME_LENGTH) return false;
  const labels = value.split('.');
  return labels.length >= 2 && labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}

/** A hostname, normalized as by normalizeHostname. */
export function IsHostname(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }) => normalizeHostname(value)),
    ValidateBy({
      name: 'isHostname',
      validator: {
        validate: isHostname,
        defaultMessage: () =>
          '$property must be a domain name such as mail.example.com (ASCII; xn-- form for international names)',
      },
    }),
  );
}
