-- Outbox deliveries for the operators, newest first, by pages. $1 status or NULL (not delivered: pending, failed,
-- dead), $2 channel or NULL, $3/$4 the cursor (created_at, id) or NULLs, $5 page size + 1.
SELECT o.id, o.event_id, o.seq, o.channel, o.event, o.status, o.attempts, o.last_error, o.created_at,
       o.next_attempt_at, o.delivered_at, t.number, t.external_ref, o.body
FROM upstream_outbox o JOIN tickets t ON t.id = o.ticket_id
WHERE (CASE WHEN $1::text IS NULL THEN o.status <> 'delivered' ELSE o.status = $1 END)
  AND ($2::text IS NULL OR o.channel = $2)
  AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4::bigint))
ORDER BY o.created_at DESC, o.id DESC
LIMIT $5
