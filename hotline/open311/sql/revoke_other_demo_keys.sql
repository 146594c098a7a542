-- Before the demo key is stored again: revoke the demo account's earlier demo keys (a changed demo password makes
-- a new key; the old one stops working). $1 username, $2 the current demo key's SHA-256 (hex).
UPDATE api_keys k SET revoked_at = now()
FROM users u
WHERE u.id = k.user_id AND u.username = $1 AND k.label = 'demo' AND k.key_hash <> $2 AND k.revoked_at IS NULL
