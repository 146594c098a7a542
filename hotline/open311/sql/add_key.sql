-- Give an integration account an API key (its SHA-256 only); a key already stored is left as it is.
-- $1 username, $2 the key's SHA-256 (hex), $3 label. Returns the key's id, or nothing when the username is not an
-- integration account.
INSERT INTO api_keys (user_id, key_hash, label)
SELECT u.id, $2, $3 FROM users u WHERE u.username = $1 AND u.role = 'integration'
ON CONFLICT (key_hash) DO UPDATE SET label = EXCLUDED.label
RETURNING id
