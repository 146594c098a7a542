-- Claim due webhook deliveries with a lease, so several workers never post the same one at once.
-- $1 now, $2 at most this many, $3 the lease (an interval). Each claim counts as an attempt.
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d SET locked_until = $1 + $3::interval, attempts = d.attempts + 1
FROM due
WHERE d.id = due.id
RETURNING d.id, d.url, d.attempts, d.step_id
