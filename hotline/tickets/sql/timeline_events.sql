-- A ticket's events in order, each with the unit of the assignment it belongs to. $1 ticket id.
SELECT e.id, e.action, e.at, e.actor, e.role, e.unit, e.status_before, e.status_after, e.version, e.payload,
       a.unit AS assignment_unit
FROM events e LEFT JOIN assignments a ON a.id = e.assignment_id
WHERE e.ticket_id = $1
ORDER BY e.id
