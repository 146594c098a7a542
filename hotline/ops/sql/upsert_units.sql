-- A unit of config/data/reference.toml, added or brought up to date. $1 code, $2 name, $3 territory.
-- A name an administrator gave (an admin event `unit.change` that changed it) stays: the file loads a fresh install
-- and adds what is new, it does not undo the console. Contacts and the active flag are the console's alone.
-- (An event's before/after: JSON text in a jsonb string before 2026-12-04, an object since: `#>> '{}'` reads both.)
INSERT INTO units (code, name, territory) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET
    territory = EXCLUDED.territory,
    name = CASE WHEN EXISTS (SELECT 1 FROM admin_events e
                             WHERE e.what = 'unit.change' AND e.subject = units.code
                               AND ((e.before #>> '{}')::jsonb ->> 'name')
                                   IS DISTINCT FROM ((e.after #>> '{}')::jsonb ->> 'name'))
                THEN units.name ELSE EXCLUDED.name END
