-- One page of a person's notifications, newest first (keyset on id).
-- $1 user id, $2 unread only (boolean), $3 the last id of the previous page (NULL on the first page), $4 at most
-- this many rows.
SELECT n.id, n.kind, n.step_id, n.payload, n.created_at, n.read_at
FROM notifications n
WHERE n.user_id = $1 AND ($2::boolean IS NOT TRUE OR n.read_at IS NULL) AND ($3::bigint IS NULL OR n.id < $3)
ORDER BY n.id DESC
LIMIT $4
