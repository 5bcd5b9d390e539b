import type { OpenAPIObject } from '@nestjs/swagger';
import { DECLARED_ERRORS } from './api-errors.decorator';
import { ERROR_CODES, ErrorCode } from './error-codes';

type Json = Record<string, any>;

const ERROR_SCHEMA = 'ErrorResponse';

/** The SPEC §3 envelope: one schema every error answer of every operation refers to. */
const SCHEMAS: Json = {
  FieldError: {
    type: 'object',
    required: ['field', 'message'],
    properties: {
      field: { type: 'string', description: 'The field, as a path into the body', example: 'to[1]' },
      message: { type: 'string', example: 'must be an email address' },
    },
  },
  [ERROR_SCHEMA]: {
    type: 'object',
    description: 'Every error answer: `error` is a stable code, `message` is for humans.',
    required: ['error', 'message'],
    properties: {
      error: { type: 'string', description: 'The error code (SPEC §3)', example: 'validation_failed' },
      message: { type: 'string', example: 'The request has invalid fields' },
      errors: {
        type: 'array',
        description: 'With `validation_failed`: each field that breaks a rule',
        items: { $ref: '#/components/schemas/FieldError' },
      },
      feature: {
        type: 'string',
        description: 'With `upgrade_needed`: the feature the plan lacks',
        example: 'smtp.enabled',
      },
      down: {
        type: 'array',
        description: 'With `service_unavailable` from /health: the dependencies that do not answer',
        items: { type: 'string', example: 'database' },
      },
      error_id: { type: 'string', description: 'With an unexpected error (500): the id of its log line' },
    },
  },
};

const EXTRA: Partial<Record<ErrorCode, Json>> = {
  validation_failed: { errors: [{ field: 'to[1]', message: 'must be an email address' }] },
  upgrade_needed: { feature: 'smtp.enabled' },
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

/**
 * The codes an operation can answer, from what it is: every operation can
 * meet a database outage; the workspace API's bearer token and rate limit,
 * the operator API's token (and its absence without ADMIN_TOKEN), ids in the
 * path, a body, query parameters and the Idempotency-Key header each bring
 * theirs. Codes of a guard or a service come from @ApiErrors.
 */
function derivedCodes(operation: Json): Set<ErrorCode> {
  const codes = new Set<ErrorCode>(['service_unavailable']);
  const schemes = ((operation.security ?? []) as Json[]).flatMap((requirement) => Object.keys(requirement));
  if (schemes.includes('api-key')) codes.add('unauthorized').add('rate_limited');
  if (schemes.includes('admin')) codes.add('unauthorized').add('not_found');
  for (const parameter of (operation.parameters ?? []) as Json[]) {
    if (parameter.in === 'path') codes.add('not_found');
    if (parameter.in === 'query') codes.add('validation_failed');
    if (parameter.in === 'header' && String(parameter.name).toLowerCase() === 'idempotency-key') {
      codes
        .add('invalid_idempotency_key')
        .add('idempotency_key_reused')
        .add('idempotency_request_in_progress');
    }
  }
  if (operation.requestBody) {
    codes.add('invalid_json').add('payload_too_large').add('unsupported_media_type').add('validation_failed');
  }
  return codes;
}

function errorResponse(status: number, codes: ErrorCode[]): Json {
  return {
    description: `Error: ${codes.map((code) => `\`${code}\``).join(', ')}`,
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
    content: {
      'application/json': {
        schema: { $ref: `#/components/schemas/${ERROR_SCHEMA}` },
        examples: Object.fromEntries(
          codes.map((code) => [
            code,
            { summary: code, value: { error: code, message: ERROR_CODES[code].message, ...EXTRA[code] } },
          ]),
        ),
      },
    },
  };
}

/**
 * Adds to every operation of the document its error answers, one per status,
 * each the SPEC §3 envelope (`ErrorResponse`) with an example per code; and
 * marks operations without a security requirement as public (`security: []`).
 */
export function documentErrors(document: OpenAPIObject): OpenAPIObject {
  document.components = document.components ?? {};
  document.components.schemas = { ...document.components.schemas, ...SCHEMAS };
  for (const path of Object.values(document.paths) as Json[]) {
    for (const operation of Object.values(path) as Json[]) {
      if (typeof operation !== 'object' || !operation.responses) continue;
      operation.security = operation.security ?? [];
      const codes = derivedCodes(operation);
      for (const code of DECLARED_ERRORS.get(operation.operationId) ?? []) codes.add(code);
      const byStatus = new Map<number, ErrorCode[]>();
      for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
        if (!codes.has(code)) continue;
        const { status } = ERROR_CODES[code];
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      }
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        operation.responses[String(status)] = errorResponse(status, list);
      }
    }
  }
  return document;
}
