-- What a webhook delivery tells of its escalation step and ticket. $1 the step ids.
SELECT s.id, s.step, s.clock, s.unit, s.due_at, s.recorded_at, t.number, t.territory, t.category, t.kind
FROM escalation_steps s JOIN tickets t ON t.id = s.ticket_id
WHERE s.id = any($1::bigint[])
