-- Record a revoked token until it would have expired, clearing the expired ones on the way.
-- $1 token id, $2 user id, $3 the token's expiry (Unix seconds).
WITH expired AS (DELETE FROM revoked_tokens WHERE expires_at <= now())
INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))
ON CONFLICT (token_id) DO NOTHING
