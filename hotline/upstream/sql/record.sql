-- What each claimed delivery came to. $1 ids, $2 the attempt each was claimed as, $3 outcome ('delivered', 'failed'
-- or 'dead'), $4 error (NULL when delivered), $5 next attempt (for 'failed'), $6 now. A delivery is final once
-- delivered; a failure recorded by a claim that another worker has since re-claimed (its lease ran out) is dropped.
UPDATE upstream_outbox o SET
    status = r.outcome,
    last_error = r.error,
    next_attempt_at = CASE WHEN r.outcome = 'failed' THEN r.next_at ELSE o.next_attempt_at END,
    delivered_at = CASE WHEN r.outcome = 'delivered' THEN $6::timestamptz END,
    locked_until = NULL
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::timestamptz[]) AS r (id, attempt, outcome, error, next_at)
WHERE o.id = r.id AND o.status <> 'delivered' AND (r.outcome = 'delivered' OR o.attempts = r.attempt)
