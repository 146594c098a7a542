-- A channel of config/data/reference.toml, added or brought up to date. $1 code, $2 name, $3 kind.
INSERT INTO channels (code, name, kind) VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind
