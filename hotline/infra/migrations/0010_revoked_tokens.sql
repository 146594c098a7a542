-- Signed-out tokens, durable: Redis only carries the news of a sign-out to the other API processes, so losing
-- Redis' data (or restarting every process) no longer brings a signed-out token back. A row is needed until the
-- token would have expired anyway; sign-out deletes the ones past that, served by the index on expires_at.
CREATE TABLE revoked_tokens (
    token_id   text PRIMARY KEY CHECK (length(token_id) BETWEEN 1 AND 64),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_user_idx ON revoked_tokens (user_id);
