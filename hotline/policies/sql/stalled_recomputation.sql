-- The policy version in force, if its requested recomputation is unfinished and silent since $1 (an instant).
SELECT version, recompute_last_id FROM sla_policy_versions
WHERE version = (SELECT max(version) FROM sla_policy_versions)
  AND recompute_requested AND recompute_done_at IS NULL
  AND (recompute_progress_at IS NULL OR recompute_progress_at < $1)
