-- A territory of config/data/reference.toml, added or brought up to date. $1 code, $2 name, $3 parent (or NULL).
-- A name an administrator gave (an admin event `territory.change`) stays: the file does not undo the console.
INSERT INTO territories (code, name, parent) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET
    parent = EXCLUDED.parent,
    name = CASE WHEN EXISTS (SELECT 1 FROM admin_events e
                             WHERE e.what = 'territory.change' AND e.subject = territories.code)
                THEN territories.name ELSE EXCLUDED.name END
