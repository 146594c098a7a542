-- One outbound feedback event, in the transaction of the action that causes it (the ticket row is locked there, so
-- the next sequence number of the ticket is safe to take). $1 event_id, $2 ticket_id, $3 channel, $4 event,
-- $5 body (jsonb; its "sequence" is set here), $6 created_at (also its first attempt).
INSERT INTO upstream_outbox (event_id, ticket_id, seq, channel, event, body, created_at, next_attempt_at)
SELECT $1, $2, n.seq, $3, $4, jsonb_set($5::jsonb, '{sequence}', to_jsonb(n.seq)), $6, $6
FROM (SELECT coalesce(max(seq), 0) + 1 AS seq FROM upstream_outbox WHERE ticket_id = $2) n
RETURNING id
