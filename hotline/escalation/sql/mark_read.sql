-- Mark a person's unread notifications as read: all of them, or those of the given ids; returns how many.
-- $1 user id, $2 the instant read, $3 all (boolean), $4 the ids (ignored when all).
WITH m AS (
    UPDATE notifications SET read_at = $2
    WHERE user_id = $1 AND read_at IS NULL AND ($3::boolean OR id = any($4::bigint[]))
    RETURNING 1
)
SELECT count(*) FROM m
