-- API keys of integration accounts (issue 12: Open311 GeoReport v2). A client posts a service request with its
-- `api_key`; only the key's SHA-256 (hex) is stored, so reading this table gives no usable key. A key is revoked,
-- never deleted: the tickets its account logged keep their author, and Open311 keeps showing them.
CREATE TABLE api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    key_hash text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    label text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

-- Open311 lists the requests its clients submitted, newest first, by the account that logged them.
CREATE INDEX tickets_created_by_idx ON tickets (created_by, received_at DESC, id DESC);
