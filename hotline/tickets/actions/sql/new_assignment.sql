-- A new assignment of a ticket to a unit; signed at once when the unit took it itself.
-- $1 ticket_id, $2 seq, $3 unit, $4 origin, $5 dispatched_by, $6 started_at, $7 signed_at (or NULL), $8 signed_by (or NULL).
-- Returns the assignment id.
INSERT INTO assignments (ticket_id, seq, unit, origin, dispatched_by, started_at, signed_at, signed_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
