-- Deadlines stored before the explanation was split (rows of clocks.deadline written whole, with an `explanation`
-- key) get the current shape: `explained` holds what the explanation took from the calendar (the keys of
-- `FACT_KEYS` in sla/explain.py), and the rest of it, rebuilt from the deadline's own fields on reading, goes.
-- A row that already has `explained` only loses the stale copy. An explanation that is null or holds none of
-- those keys leaves `explained` null, read as before: explained from the deadline's fields alone.
UPDATE clocks
SET deadline = CASE
        WHEN coalesce(deadline -> 'explained', 'null'::jsonb) = 'null'::jsonb
             AND jsonb_typeof(deadline -> 'explanation') = 'object'
        THEN (deadline - 'explanation' - 'explained') || jsonb_build_object('explained', (
            SELECT jsonb_object_agg(fact.key, fact.value)
            FROM jsonb_each(deadline -> 'explanation') AS fact
            WHERE fact.key IN ('calendar', 'rule', 'start_local', 'due_local', 'holidays_skipped',
                               'makeup_workdays_counted', 'local_exceptions', 'provisional_reason')))
        ELSE deadline - 'explanation'
    END
WHERE deadline ? 'explanation';
