-- The next steps of running clocks falling due in a window, soonest first, to arm their jobs again.
-- $1 the window's start (excluded), $2 its end, $3 at most this many.
SELECT id, version, next_step, next_step_at FROM clocks
WHERE next_step_at > $1 AND next_step_at <= $2
ORDER BY next_step_at
LIMIT $3
