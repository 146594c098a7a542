-- Withdraw a saved calendar exception still in force. $1 its id, $2 who withdraws it (user id).
UPDATE calendar_exceptions SET withdrawn_at = now(), withdrawn_by = $2
WHERE id = $1 AND withdrawn_at IS NULL
RETURNING id, day, working, reason, territories
