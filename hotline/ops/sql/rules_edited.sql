-- The routing rules an administrator created, changed, deactivated or reactivated: the ids admin events name (the
-- rule changed, and the successor a change added, in `after`). No parameters. (An event's `after` is stored as JSON
-- text in a jsonb string by hotline.auth.audit before 2026-12-04, objects since: `#>> '{}'` reads both.)
SELECT subject::int AS id FROM admin_events WHERE what LIKE 'routing\_rule.%' AND subject ~ '^[0-9]{1,9}$'
UNION
SELECT ((after #>> '{}')::jsonb ->> 'id')::int FROM admin_events
WHERE what LIKE 'routing\_rule.%' AND jsonb_typeof((after #>> '{}')::jsonb -> 'id') = 'number'
