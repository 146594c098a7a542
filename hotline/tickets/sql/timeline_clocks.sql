-- A ticket's clocks in order, each with the escalation steps recorded on it. $1 ticket id.
SELECT c.id, c.assignment_id, c.clock, c.started_at, c.due_at, c.warning_at, c.supervision_at, c.deadline,
       c.provisional, c.version, c.stopped_at, c.suspended_at,
       coalesce((SELECT array_agg(s.step ORDER BY s.id) FROM escalation_steps s WHERE s.clock_id = c.id), '{}') AS steps
FROM clocks c
WHERE c.ticket_id = $1
ORDER BY c.id
