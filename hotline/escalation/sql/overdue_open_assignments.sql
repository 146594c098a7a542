-- The open assignments that are late at an instant, one row per ticket (a ticket has at most one open assignment,
-- assignments_one_open_idx), with what each is late on. $1: the instant (as_of).
-- The one definition behind the board's tiles and rows, the heat map, the supervision list and the list filters
-- (hotline/escalation/overdue.py). `overdue` is the closure report's overdue_open, assignment for assignment: charged,
-- not ended, reply clock due at or before $1, unless it was suspended (挂起) before falling due.
SELECT a.ticket_id, a.unit, t.territory,
       coalesce(rc.due_at <= $1 AND (rc.suspended_at IS NULL OR rc.suspended_at >= rc.due_at), false) AS overdue,
       coalesce(a.signed_at IS NULL AND sc.due_at <= $1
                AND (sc.suspended_at IS NULL OR sc.suspended_at >= sc.due_at), false) AS sign_overdue,
       coalesce(rc.supervision_at <= $1 AND (rc.suspended_at IS NULL OR rc.suspended_at >= rc.supervision_at), false)
         OR coalesce(a.signed_at IS NULL AND sc.supervision_at <= $1
                     AND (sc.suspended_at IS NULL OR sc.suspended_at >= sc.supervision_at), false) AS supervised,
       CASE WHEN a.signed_at IS NULL AND sc.due_at <= $1 THEN 'sign' ELSE 'reply' END AS late_clock,
       CASE WHEN a.signed_at IS NULL AND sc.due_at <= $1 THEN sc.due_at ELSE rc.due_at END AS late_since,
       CASE WHEN a.signed_at IS NULL AND sc.due_at <= $1 THEN sc.deadline ELSE rc.deadline END ->> 'basis' AS basis
FROM assignments a
JOIN tickets t ON t.id = a.ticket_id
LEFT JOIN clocks rc ON rc.assignment_id = a.id AND rc.clock = 'reply'
LEFT JOIN clocks sc ON sc.assignment_id = a.id AND sc.clock = 'sign'
WHERE a.ended_at IS NULL AND a.charged AND (rc.due_at <= $1 OR (a.signed_at IS NULL AND sc.due_at <= $1))
