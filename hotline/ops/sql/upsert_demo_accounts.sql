-- A demo account of config/data/accounts.toml, added, or reset (its password too) unless an administrator created,
-- changed or reset it in the console (an admin event account.create / account.change / account.reset_password):
-- the file does not undo the console.
-- $1 username, $2 password hash, $3 role, $4 unit, $5 channel (each unit and channel may be NULL), $6 display name.
INSERT INTO users (username, password_hash, role, unit, channel, display_name)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
    unit = EXCLUDED.unit, channel = EXCLUDED.channel, display_name = EXCLUDED.display_name
WHERE NOT EXISTS (SELECT 1 FROM admin_events e
                  WHERE e.subject = users.username
                    AND e.what = any(ARRAY['account.create', 'account.change', 'account.reset_password']))
