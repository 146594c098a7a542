-- The active integration account an Open311 API key belongs to, if the key is in force.
-- $1 the key's SHA-256 (hex).
SELECT u.id, u.username, u.role, u.display_name, u.unit, u.channel
FROM api_keys k
JOIN users u ON u.id = k.user_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.active AND u.role = 'integration'
