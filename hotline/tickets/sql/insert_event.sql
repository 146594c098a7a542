-- The event an action appends to a ticket's history, in the action's transaction.
-- $1 ticket_id, $2 assignment_id (or NULL), $3 at, $4 actor_id, $5 actor, $6 role, $7 unit, $8 action, $9 status_before,
-- $10 status_after, $11 version, $12 payload.
INSERT INTO events (ticket_id, assignment_id, at, actor_id, actor, role, unit, action, status_before,
    status_after, version, payload)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
