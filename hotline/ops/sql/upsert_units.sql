-- A unit of config/data/reference.toml, added or brought up to date. $1 code, $2 name, $3 territory.
INSERT INTO units (code, name, territory) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, territory = EXCLUDED.territory
