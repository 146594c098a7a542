-- Tell a unit's active handlers of a lifecycle event on one of its tickets, in the event's own transaction.
-- $1 kind (dispatch, urge, extension_decision, return_decision), $2 unit, $3 payload (number, and the decision), $4 now.
INSERT INTO notifications (user_id, kind, step_id, payload, created_at)
SELECT u.id, $1, NULL, $3, $4
FROM users u
WHERE u.active AND u.role = 'handler' AND u.unit = $2
