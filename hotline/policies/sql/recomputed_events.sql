-- The trace (全程留痕): who moved the deadline is the system, under which policy version, from what to what.
-- $1 ticket ids, $2 assignment ids, $3 clocks, $4 old due instants, $5 new due instants (one element per moved
-- clock), $6 the instant recorded, $7 the policy version.
INSERT INTO events (ticket_id, assignment_id, at, actor, role, action, status_before, status_after, version, payload)
SELECT t.id, m.assignment_id, $6, 'system', 'system', 'deadline_recomputed', t.status, t.status, t.version,
       jsonb_build_object('clock', m.clock, 'old_due_at', m.old_due_at, 'new_due_at', m.new_due_at,
                          'policy_version', $7::integer)
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[])
    AS m (ticket_id, assignment_id, clock, old_due_at, new_due_at)
JOIN tickets t ON t.id = m.ticket_id
