-- A pending extension request (申请延期); a unique index allows one pending request per ticket.
-- $1 ticket_id, $2 assignment_id, $3 requested_by, $4 requested_at, $5 working_days (or NULL), $6 until_date (or NULL),
-- $7 reason, $8 old_due_at.
INSERT INTO extension_requests (ticket_id, assignment_id, requested_by, requested_at, working_days,
    until_date, reason, old_due_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
