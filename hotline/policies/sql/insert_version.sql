-- The next SLA policy version, saved through the API.
-- $1 version, $2 rows (the set as jsonb), $3 created_by (user id), $4 recompute_requested, $5 reason (or NULL).
INSERT INTO sla_policy_versions (version, rows, source, created_by, recompute_requested, recompute_progress_at, reason)
VALUES ($1, $2, 'api', $3, $4, CASE WHEN $4 THEN now() END, $5)
