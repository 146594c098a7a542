-- The next SLA policy version for a calendar change: the same rows as version $1 - 1 (the one in force), asking for
-- the recomputation of running clocks, so the recomputation machinery moves their deadlines under the new calendar.
-- $1 version, $2 created_by (user id), $3 reason.
INSERT INTO sla_policy_versions (version, rows, source, created_by, recompute_requested, recompute_progress_at, reason)
SELECT $1, rows || jsonb_build_object('version', $1::integer), 'calendar', $2, true, now(), $3
FROM sla_policy_versions
WHERE version = $1 - 1
