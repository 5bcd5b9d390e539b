/**
 * The error codes of SPEC §3 (and the filter's 415), each with its status and
 * an example message: what /docs-json documents for every operation.
 */
export const ERROR_CODES = {
  invalid_json: { status: 400, message: 'Request body is not valid JSON' },
  invalid_idempotency_key: {
    status: 400,
    message: 'Idempotency-Key must be 1-256 printable ASCII characters',
  },
  unauthorized: { status: 401, message: 'Missing, unknown or revoked bearer token' },
  upgrade_needed: { status: 403, message: 'Sending email needs a plan with SMTP access' },
  email_verification_required: {
    status: 403,
    message: "The workspace owner's email address is not verified",
  },
  not_found: { status: 404, message: 'Resource not found' },
  conflict: { status: 409, message: 'It already exists' },
  idempotency_key_reused: {
    status: 409,
    message: 'This Idempotency-Key was used with a different request body',
  },
  idempotency_request_in_progress: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed',
  },
  not_scheduled: { status: 409, message: 'The message is no longer scheduled' },
  not_retryable: { status: 409, message: 'The message is not suppressed or failed' },
  payload_too_large: { status: 413, message: 'Request body is larger than 10 MB' },
  unsupported_media_type: { status: 415, message: 'Unsupported body encoding or charset' },
  validation_failed: { status: 422, message: 'The request has invalid fields' },
  sender_not_verified: {
    status: 422,
    message: '`from` is not a verified sendable address of this workspace',
  },
  rate_limited: { status: 429, message: 'Too many requests' },
  service_unavailable: { status: 503, message: 'The database is unavailable; retry shortly' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
