/**
 * The two statements of every webhook attempt, each for a batch of attempts
 * (WebhookDeliveriesRepository sends the attempts in flight together). Each
 * answers per request by its ordinality `i` (1-based), and applies its rules
 * to each row as if it ran alone. A request repeated in one batch (the same
 * delivery claimed twice, the same attempt settled twice) counts once, as
 * its first: the repeats find the delivery already taken, as they would one
 * statement later. Delivery rows are locked in id order (and endpoint rows,
 * after them, in id order), so two workers' batches never deadlock.
 */

/**
 * Takes deliveries (`$1` ids, `$2` lease ms each) for one attempt each, so
 * two workers never make the same attempt: pending and due (up to `$3` ms
 * early), or sending with an expired lease (its worker died: that attempt is
 * recorded as an interrupted failure, and the attempt count goes on). A
 * delivery whose endpoint is disabled meanwhile is dropped (`disabled`)
 * instead. Answers one row per delivery still pending or sending:
 * `interrupted`, and the claimed delivery's columns (null when not claimed).
 */
export const CLAIM = `
  WITH asked AS (
    SELECT DISTINCT ON (id) id, lease_ms, i
      FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS a(id, lease_ms, i)
     ORDER BY id, i
  ), prev AS (
    SELECT d.id, a.i, a.lease_ms, d.status, d.attempts, d.lease_until, d.next_attempt_at, d.endpoint_id, e.enabled
      FROM asked a
      JOIN webhook_deliveries d ON d.id = a.id
      JOIN webhook_endpoints e ON e.id = d.endpoint_id
     WHERE d.id = ANY($1::uuid[]) AND d.status IN ('pending', 'sending')
     ORDER BY d.id
       FOR UPDATE OF d
  ), cut AS (
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, outcome, error)
    SELECT id, endpoint_id, attempts, 'failure', 'interrupted: the worker stopped during the attempt'
      FROM prev WHERE status = 'sending' AND lease_until < now()
    ON CONFLICT (delivery_id, attempt) DO NOTHING
    RETURNING delivery_id
  ), claimed AS (
    UPDATE webhook_deliveries d
       SET status = 'sending', attempts = d.attempts + 1,
           lease_until = now() + prev.lease_ms * interval '1 millisecond'
      FROM prev
     WHERE d.id = prev.id AND d.id = ANY($1::uuid[]) AND prev.enabled
       AND ((prev.status = 'pending' AND prev.next_attempt_at <= now() + $3 * interval '1 millisecond')
         OR (prev.status = 'sending' AND prev.lease_until < now()))
    RETURNING d.id, d.event_id::text, d.attempts, d.payload, d.endpoint_id
  ), dropped AS (
    UPDATE webhook_deliveries d SET status = 'disabled', lease_until = NULL
      FROM prev WHERE d.id = prev.id AND d.id = ANY($1::uuid[]) AND NOT prev.enabled
  )
  SELECT p.i, cut.delivery_id IS NOT NULL AS interrupted, c.id, c.event_id, c.attempts, c.payload,
         e.url, e.secret
    FROM prev p
    LEFT JOIN cut ON cut.delivery_id = p.id
    LEFT JOIN (claimed c JOIN webhook_endpoints e ON e.id = c.endpoint_id) ON c.id = p.id`;

/**
 * Records how attempts ended (`$1` delivery, `$2` attempt, `$3` the
 * delivery's status after it, `$4` outcome, `$5` status code, `$6` error,
 * `$7` at, `$8` next attempt at; one element each per attempt), each only
 * while the delivery is still that attempt's (a lease that expired under a
 * live attempt lets the next claim win); a `disabled` outcome disables the
 * endpoint in the same statement. Answers the `i` of the attempts recorded.
 *
 * The rows are found by id alone and their status is tested once they are
 * locked (`locked`, then `held`): with `status = 'sending'` on the scan, the
 * planner may read webhook_deliveries_leased_idx (whose rows are all
 * 'sending') for the ids, scanning every entry the claims and settles since
 * the last vacuum left in it, instead of the primary key. A locked row cannot
 * change before `done` updates it.
 */
export const SETTLE = `
  WITH asked AS (
    SELECT DISTINCT ON (id, attempt) *
      FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::text[],
                  $7::timestamptz[], $8::timestamptz[])
           WITH ORDINALITY AS a(id, attempt, status, outcome, status_code, error, at, next_attempt_at, i)
     ORDER BY id, attempt, i
  ), locked AS MATERIALIZED (
    SELECT a.*, d.status AS held_status, d.attempts AS held_attempts
      FROM asked a JOIN webhook_deliveries d ON d.id = a.id
     WHERE d.id = ANY($1::uuid[])
     ORDER BY d.id
       FOR NO KEY UPDATE OF d
  ), held AS (
    SELECT * FROM locked WHERE held_status = 'sending' AND held_attempts = attempt
  ), done AS (
    UPDATE webhook_deliveries d
       SET status = h.status, lease_until = NULL, next_attempt_at = coalesce(h.next_attempt_at, d.next_attempt_at)
      FROM held h
     WHERE d.id = h.id AND d.id = ANY($1::uuid[])
    RETURNING d.id, d.endpoint_id, h.i, h.attempt, h.outcome, h.status_code, h.error, h.at, h.next_attempt_at
  ), attempt AS (
    INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempt, outcome, status_code, error, at, next_attempt_at)
    SELECT id, endpoint_id, attempt, outcome, status_code, error, at, next_attempt_at FROM done
  ), gone AS (
    SELECT e.id FROM webhook_endpoints e
     WHERE e.id IN (SELECT endpoint_id FROM done WHERE outcome = 'disabled')
     ORDER BY e.id
       FOR NO KEY UPDATE OF e
  ), off AS (
    UPDATE webhook_endpoints e SET enabled = false, updated_at = now() FROM gone WHERE e.id = gone.id
  )
  SELECT i FROM done`;
