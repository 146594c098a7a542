-- A batch of the running clocks a local calendar exception could move, with what their deadline depends on, in id
-- order (keyset). $1 the last clock id of the previous batch (0 at first), $2 the batch size, $3 the exception's
-- territories (NULL: the whole city, every clock).
SELECT c.id, c.clock, c.deadline, t.number, t.channel, t.kind, t.urgent, t.territory
FROM clocks c JOIN tickets t ON t.id = c.ticket_id
WHERE c.stopped_at IS NULL AND c.id > $1 AND ($3::text[] IS NULL OR t.territory = any($3::text[]))
ORDER BY c.id
LIMIT $2
