-- An operator re-drives a dead letter: a fresh set of attempts from now. $1 the id, $2 now. Only a dead one.
UPDATE upstream_outbox SET status = 'pending', attempts = 0, next_attempt_at = $2, locked_until = NULL
WHERE id = $1 AND status = 'dead'
RETURNING id
