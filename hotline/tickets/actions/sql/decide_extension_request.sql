-- The decision on an extension request.
-- $1 request id, $2 status ('approved' or 'denied'), $3 decided_by, $4 decided_at, $5 note, $6 new_due_at (or NULL).
UPDATE extension_requests SET status = $2, decided_by = $3, decided_at = $4, note = $5, new_due_at = $6
    WHERE id = $1
