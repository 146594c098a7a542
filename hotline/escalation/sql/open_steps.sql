-- Open (unresolved) escalation steps with their ticket, newest first (keyset on recorded_at, id).
-- $1 unit, $2 step (level), $3 territory, $4 clock: each NULL for any; $5 recorded_at and $6 id of the last row of
-- the previous page (NULL on the first page); $7 at most this many rows.
SELECT s.id, s.clock, s.step, s.unit, s.due_at, s.recorded_at, s.source, t.number, t.territory, t.status, t.title
FROM escalation_steps s JOIN tickets t ON t.id = s.ticket_id
WHERE s.resolved_at IS NULL
  AND ($1::text IS NULL OR s.unit = $1)
  AND ($2::text IS NULL OR s.step = $2)
  AND ($3::text IS NULL OR t.territory = $3)
  AND ($4::text IS NULL OR s.clock = $4)
  AND ($5::timestamptz IS NULL OR (s.recorded_at, s.id) < ($5, $6))
ORDER BY s.recorded_at DESC, s.id DESC
LIMIT $7
