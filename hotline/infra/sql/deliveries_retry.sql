-- Webhook deliveries to try again later. $1 delivery ids, $2 the error of each, $3 the instant of its next attempt.
UPDATE webhook_deliveries d SET next_attempt_at = r.at, locked_until = NULL, last_error = r.error
FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS r (id, error, at)
WHERE d.id = r.id
