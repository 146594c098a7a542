-- A ticket's assignments in order. $1 ticket id.
SELECT id, seq, unit, origin, started_at, signed_at, replied_at, returned_at, return_reason, return_proper, ended_at,
       end_reason, charged
FROM assignments
WHERE ticket_id = $1
ORDER BY seq
