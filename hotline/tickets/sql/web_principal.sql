-- The account the citizen web form's tickets are logged by (channel web): made on first use, never able to sign in
-- (no password hash, inactive). The upsert returns the row whether it made it or found it. No parameters.
INSERT INTO users (username, password_hash, role, channel, display_name, active)
VALUES ('public-web', '!', 'integration', 'web', '网上受理', false)
ON CONFLICT (username) DO UPDATE SET username = EXCLUDED.username
RETURNING id
