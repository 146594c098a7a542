-- Claim due feedback events with a lease, each only when every earlier event of its ticket is delivered (order per
-- ticket: n+1 is never posted before n is acknowledged). $1 now, $2 at most this many, $3 one ticket's id or NULL
-- for every ticket, $4 the lease in seconds. Each claim counts as an attempt.
WITH due AS (
    SELECT o.id FROM upstream_outbox o
    WHERE o.status IN ('pending', 'failed') AND o.next_attempt_at <= $1
      AND (o.locked_until IS NULL OR o.locked_until <= $1)
      AND ($3::bigint IS NULL OR o.ticket_id = $3)
      AND NOT EXISTS (
          SELECT 1 FROM upstream_outbox p WHERE p.ticket_id = o.ticket_id AND p.seq < o.seq AND p.status <> 'delivered'
      )
    ORDER BY o.next_attempt_at, o.id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE upstream_outbox o SET locked_until = $1 + make_interval(secs => $4), attempts = o.attempts + 1
FROM due
WHERE o.id = due.id
RETURNING o.id, o.event_id, o.ticket_id, o.seq, o.channel, o.event, o.body, o.attempts
