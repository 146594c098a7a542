-- Lock the tickets of a batch of clocks, in id order (ticket before clock, as the lifecycle locks them).
-- $1 the ticket ids.
SELECT id, channel, kind, urgent, territory FROM tickets
WHERE id = any($1::bigint[])
ORDER BY id
FOR NO KEY UPDATE
