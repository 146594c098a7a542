-- A batch of running clocks with what their deadline depends on, in id order (keyset).
-- $1 the last clock id of the previous batch (0 at first), $2 the batch size.
SELECT c.id, c.clock, c.deadline, t.number, t.channel, t.kind, t.urgent, t.territory
FROM clocks c JOIN tickets t ON t.id = c.ticket_id
WHERE c.stopped_at IS NULL AND c.id > $1
ORDER BY c.id
LIMIT $2
