-- Where a recomputation got to; it is done when no more clocks are left.
-- $1 policy version, $2 the last clock id examined, $3 now, $4 whether more clocks are left.
UPDATE sla_policy_versions
SET recompute_last_id = greatest(recompute_last_id, $2), recompute_progress_at = $3,
    recompute_done_at = CASE WHEN $4 THEN recompute_done_at ELSE $3 END
WHERE version = $1
