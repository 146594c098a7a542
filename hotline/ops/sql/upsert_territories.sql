-- A territory of config/data/reference.toml, added or brought up to date. $1 code, $2 name, $3 parent (or NULL).
INSERT INTO territories (code, name, parent) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, parent = EXCLUDED.parent
