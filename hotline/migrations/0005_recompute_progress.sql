-- Recomputing open clocks after a policy change is intent that must survive Redis: PostgreSQL holds whether it was
-- asked for, how far it got and when it last made progress, so the worker's cron resumes a recomputation whose
-- jobs were lost. Running clocks are found by id without reading the finished ones.
ALTER TABLE sla_policy_versions
    ADD COLUMN recompute_requested boolean NOT NULL DEFAULT false,
    ADD COLUMN recompute_last_id bigint NOT NULL DEFAULT 0,
    ADD COLUMN recompute_progress_at timestamptz,
    ADD COLUMN recompute_done_at timestamptz;

CREATE INDEX clocks_running_idx ON clocks (id) WHERE stopped_at IS NULL;
