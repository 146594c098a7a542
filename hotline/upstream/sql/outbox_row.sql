-- One outbox delivery as the operators see it. $1 its id.
SELECT o.id, o.event_id, o.seq, o.channel, o.event, o.status, o.attempts, o.last_error, o.created_at,
       o.next_attempt_at, o.delivered_at, t.number, t.external_ref, o.body
FROM upstream_outbox o JOIN tickets t ON t.id = o.ticket_id
WHERE o.id = $1
