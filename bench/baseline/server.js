'use strict';
/**
 * Baseline for the API phase of `npm run bench`: the least a Node.js process
 * must do to accept `POST /v1/emails` with the same guarantees as Leadpush
 * (stored before the 202, then queued), with no framework at all:
 *
 *   node:http → read body → JSON.parse → API key check → light validation →
 *   ONE SQL statement (request content + one message per recipient + one
 *   `pending` event per message) → ONE Bull addBulk (jobId = message uuid) → 202 JSON.
 *
 * Fairness choices (see bench/README.md):
 * - API key: the token's SHA-256 is looked up with one indexed SELECT and the
 *   answer is cached in memory for AUTH_CACHE_TTL_MS (default 5000, the app's
 *   default too), exactly like the app's ApiKeysService. Both servers therefore
 *   hit the database for the key about once every 5 s, not once per request.
 * - Storage: the tables mirror the app's email_requests / messages /
 *   message_events (same columns, same indexes, request/message foreign keys),
 *   so the write costs PostgreSQL the same and the app/baseline ratio measures
 *   what the app does on top (framework, validation, extra queries, logging).
 * - Same pg pool size as the app (max 20), same Bull job options.
 *
 * Environment: PORT (0 = any), DATABASE_URL, REDIS_URL, QUEUE_PREFIX,
 * BASELINE_TOKEN (the bearer token it accepts; its hash is inserted at start),
 * AUTH_CACHE_TTL_MS. Prints `listening <port>` on stdout when ready.
 */
const http = require('node:http');
const { createHash, randomUUID } = require('node:crypto');
const { Pool } = require('pg');
const Queue = require('bull');

const PORT = Number(process.env.PORT || 0);
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/leadpush_bench';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const QUEUE_PREFIX = process.env.QUEUE_PREFIX || 'leadpush_bench_baseline';
const TOKEN = process.env.BASELINE_TOKEN || '';
const AUTH_CACHE_TTL_MS = Number(process.env.AUTH_CACHE_TTL_MS || 5000);
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MAX_RECIPIENTS = 50;
const WORKSPACE_ID = process.env.BASELINE_WORKSPACE_ID || '00000000-0000-4000-8000-00000000b0b0';
/**
 * Diagnostic only (bench phase `baseline-app-sql`): also run the app's two
 * per-request lookups (sender address, contacts of the recipients) against the
 * app's own tables, exactly as AddressesService.findSendable and
 * ContactsService.findRecipients write them, before the insert. Needs
 * BASELINE_WORKSPACE_ID = the app's bench workspace, so the lookups find rows.
 */
const APP_LOOKUPS = process.env.BASELINE_APP_LOOKUPS === '1';
const FIND_SENDABLE = `SELECT a.id, a.email, a.name, a.domain_id, d.name AS domain_name
    FROM addresses a JOIN domains d ON d.id = a.domain_id
   WHERE a.workspace_id = $1 AND a.email = $2 AND d.verified_at IS NOT NULL`;
const FIND_RECIPIENTS = `SELECT c.id, c.email, a.id AS address_id, a.email AS address_email, a.name AS address_name,
         d.id AS domain_id, d.name AS domain_name
    FROM contacts c
    LEFT JOIN addresses a ON a.id = c.delivery_address_id AND a.workspace_id = c.workspace_id
    LEFT JOIN domains d ON d.id = a.domain_id AND d.verified_at IS NOT NULL
   WHERE c.workspace_id = $1 AND c.email = ANY($2)`;

const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true, attempts: 1 };
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS baseline_api_keys (
    token_hash bytea PRIMARY KEY,
    workspace_id uuid NOT NULL,
    revoked_at timestamptz
  );
  CREATE TABLE IF NOT EXISTS baseline_requests (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    from_email varchar(254) NOT NULL,
    subject text NOT NULL,
    html text,
    text text,
    reply_to varchar(254),
    to_recipients jsonb NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}',
    tag varchar(200),
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS baseline_requests_workspace_idx ON baseline_requests (workspace_id);
  CREATE TABLE IF NOT EXISTS baseline_messages (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL,
    request_id uuid NOT NULL REFERENCES baseline_requests(id) ON DELETE CASCADE,
    recipient varchar(254) NOT NULL,
    type varchar(3) NOT NULL CHECK (type IN ('to', 'bcc')),
    from_email varchar(254) NOT NULL,
    contact_id uuid,
    tag varchar(200),
    status varchar(16) NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX IF NOT EXISTS baseline_messages_workspace_idx ON baseline_messages (workspace_id, created_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS baseline_messages_status_idx ON baseline_messages (workspace_id, status, created_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS baseline_messages_recipient_idx ON baseline_messages (workspace_id, recipient, created_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS baseline_messages_tag_idx ON baseline_messages (workspace_id, tag, created_at DESC, id DESC) WHERE tag IS NOT NULL;
  CREATE INDEX IF NOT EXISTS baseline_messages_unfinished_idx ON baseline_messages (status, updated_at) WHERE status IN ('pending', 'deferred', 'sending');
  CREATE INDEX IF NOT EXISTS baseline_messages_request_idx ON baseline_messages (request_id);
  CREATE TABLE IF NOT EXISTS baseline_message_events (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL REFERENCES baseline_messages(id) ON DELETE CASCADE,
    type varchar(16) NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    detail jsonb NOT NULL DEFAULT '{}'
  );
  CREATE INDEX IF NOT EXISTS baseline_message_events_message_idx ON baseline_message_events (message_id, id);
`;

const INSERT = `WITH req AS (
    INSERT INTO baseline_requests (id, workspace_id, from_email, subject, html, text, reply_to, to_recipients, headers, tag)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '{}', NULL)
    RETURNING id, workspace_id, tag, created_at
  ), msg AS (
    INSERT INTO baseline_messages (id, workspace_id, request_id, recipient, type, from_email, tag, status, created_at, updated_at)
    SELECT m.id, req.workspace_id, req.id, m.recipient, m.type, $3, req.tag, 'pending', req.created_at, req.created_at
      FROM req, unnest($9::uuid[], $10::text[], $11::text[]) AS m(id, recipient, type)
    RETURNING id
  ), ev AS (
    INSERT INTO baseline_message_events (message_id, type) SELECT id, 'pending' FROM msg
  )
  SELECT created_at FROM req`;

const pool = new Pool({ connectionString: DATABASE_URL, max: 20 });
pool.on('error', () => undefined);
const queue = new Queue('delivery', REDIS_URL, { prefix: QUEUE_PREFIX });
queue.on('error', () => undefined);

const hash = (token) => createHash('sha256').update(token).digest();
const authCache = new Map();

async function authenticate(header) {
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return null;
  const token = header.slice(7).trim();
  if (!token || token.length > 128) return null;
  const digest = hash(token);
  const cacheKey = digest.toString('base64');
  const cached = authCache.get(cacheKey);
  if (cached && cached.expiresAt > Date.now()) return cached.workspaceId;
  const { rows } = await pool.query(
    'SELECT workspace_id FROM baseline_api_keys WHERE token_hash = $1 AND revoked_at IS NULL',
    [digest],
  );
  if (rows.length === 0) return null;
  if (AUTH_CACHE_TTL_MS > 0) authCache.set(cacheKey, { workspaceId: rows[0].workspace_id, expiresAt: Date.now() + AUTH_CACHE_TTL_MS });
  return rows[0].workspace_id;
}

function send(res, status, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size).toString('utf8')));
    req.once('error', reject);
  });
}

/** The spec's body rules, minus headers/tags (the bench never sends them). Returns [errors, recipients]. */
function validate(body) {
  const errors = [];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [[{ field: '', message: 'must be an object' }], []];
  for (const key of Object.keys(body)) {
    if (!['from', 'subject', 'html', 'text', 'to', 'bcc', 'reply_to', 'headers'].includes(key)) {
      errors.push({ field: key, message: 'unknown field' });
    }
  }
  if (typeof body.from !== 'string' || !EMAIL.test(body.from)) errors.push({ field: 'from', message: 'must be an email address' });
  if (typeof body.subject !== 'string' || body.subject.length === 0 || /[\r\n]/.test(body.subject)) {
    errors.push({ field: 'subject', message: 'must be a non-empty single line' });
  }
  if (body.html === undefined && body.text === undefined) errors.push({ field: 'text', message: 'html or text is required' });
  if (body.html !== undefined && typeof body.html !== 'string') errors.push({ field: 'html', message: 'must be a string' });
  if (body.text !== undefined && typeof body.text !== 'string') errors.push({ field: 'text', message: 'must be a string' });
  const seen = new Map();
  for (const type of ['to', 'bcc']) {
    const list = body[type];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errors.push({ field: type, message: 'must be an array' });
      continue;
    }
    list.forEach((value, i) => {
      if (typeof value !== 'string' || !EMAIL.test(value.trim())) {
        errors.push({ field: `${type}[${i}]`, message: 'must be an email address' });
        return;
      }
      const email = value.trim().toLowerCase();
      if (!seen.has(email)) seen.set(email, type);
    });
  }
  if (seen.size === 0) errors.push({ field: 'to', message: 'at least one recipient is required' });
  if (seen.size > MAX_RECIPIENTS) errors.push({ field: 'to', message: `at most ${MAX_RECIPIENTS} unique recipients` });
  return [errors, [...seen].map(([email, type]) => ({ email, type }))];
}

async function acceptEmail(req, res) {
  let raw;
  try {
    raw = await readBody(req);
  } catch (error) {
    return send(res, error.status || 400, { error: 'payload_too_large', message: 'body too large' });
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return send(res, 400, { error: 'invalid_json', message: 'body is not valid JSON' });
  }
  const workspaceId = await authenticate(req.headers.authorization);
  if (!workspaceId) return send(res, 401, { error: 'unauthorized', message: 'invalid API key' });
  const [errors, recipients] = validate(body);
  if (errors.length > 0) return send(res, 422, { error: 'validation_failed', message: 'invalid body', errors });

  const from = body.from.trim().toLowerCase();
  if (APP_LOOKUPS) {
    const sender = await pool.query(FIND_SENDABLE, [workspaceId, from]);
    if (sender.rows.length === 0) return send(res, 422, { error: 'sender_not_verified', message: `${from} is not sendable` });
    await pool.query(FIND_RECIPIENTS, [workspaceId, recipients.map((r) => r.email)]);
  }
  const ids = recipients.map(() => randomUUID());
  await pool.query(INSERT, [
    randomUUID(),
    workspaceId,
    from,
    body.subject,
    body.html ?? null,
    body.text ?? null,
    body.reply_to ?? null,
    JSON.stringify(recipients.filter((r) => r.type === 'to').map((r) => r.email)),
    ids,
    recipients.map((r) => r.email),
    recipients.map((r) => r.type),
  ]);
  try {
    await queue.addBulk(ids.map((id) => ({ name: 'send', data: { messageId: id }, opts: { ...JOB_OPTIONS, jobId: id } })));
  } catch {
    // Stored already; like the app, a queue failure does not fail the request.
  }
  send(res, 202, {
    data: {
      accepted: true,
      message_count: ids.length,
      messages: recipients.map((r, i) => ({ uuid: ids[i], recipient: r.email, type: r.type, from, status: 'pending' })),
    },
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/emails') {
    acceptEmail(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { error: 'internal_error', message: error.message });
    });
  } else if (req.method === 'GET' && req.url === '/health') {
    send(res, 200, { status: 'ok' });
  } else {
    req.resume();
    send(res, 404, { error: 'not_found', message: 'not found' });
  }
});

async function main() {
  await pool.query(SCHEMA);
  if (TOKEN) {
    await pool.query(
      'INSERT INTO baseline_api_keys (token_hash, workspace_id) VALUES ($1, $2) ON CONFLICT (token_hash) DO NOTHING',
      [hash(TOKEN), WORKSPACE_ID],
    );
  }
  await queue.isReady();
  await new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  process.stdout.write(`listening ${server.address().port}\n`);
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections?.();
  await Promise.allSettled([queue.close(), pool.end()]);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((error) => {
  process.stderr.write(`baseline failed to start: ${error.stack || error}\n`);
  process.exit(1);
});
