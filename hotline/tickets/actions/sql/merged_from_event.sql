-- The event on the surviving ticket of a merge (重复件): its status and version unchanged, the merged ticket named.
-- $1 surviving ticket id, $2 at, $3 actor_id, $4 actor, $5 role, $6 unit, $7 payload.
INSERT INTO events (ticket_id, at, actor_id, actor, role, unit, action, status_before, status_after, version, payload)
    SELECT id, $2, $3, $4, $5, $6, 'merged_from', status, status, version, $7 FROM tickets WHERE id = $1
