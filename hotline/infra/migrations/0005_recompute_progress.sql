-- Recomputing open clocks after a policy change is intent that must survive Redis: PostgreSQL holds whether it was
-- asked for, how far it got and when it last made progress, so the worker's cron resumes a recomputation whose
-- jobs were lost.
--
-- No partial index on running clocks for the recomputation's walk: with one, the planner combines it with
-- clocks_next_step_idx in a bitmap for the sweep's tick and sorts, instead of reading that index in order, and the
-- tick grows with the number of running clocks (measured: 58 ms for 1,000 due of 30,000 running). The walk is a
-- throttled background pass along the primary key; the sweep is not.
ALTER TABLE sla_policy_versions
    ADD COLUMN recompute_requested boolean NOT NULL DEFAULT false,
    ADD COLUMN recompute_last_id bigint NOT NULL DEFAULT 0,
    ADD COLUMN recompute_progress_at timestamptz,
    ADD COLUMN recompute_done_at timestamptz;
