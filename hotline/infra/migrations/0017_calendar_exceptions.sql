-- Local calendar exceptions saved by an administrator (a typhoon day off, a declared make-up working day), on top
-- of config/data/calendar.toml. The service never deletes one: it is withdrawn (withdrawn_at, withdrawn_by), so the
-- record of what was in force stays (and admin_events, append-only, records both acts). At most one exception in
-- force per day.
CREATE TABLE calendar_exceptions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day             date NOT NULL,
    working         boolean NOT NULL,
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    withdrawn_at    timestamptz,
    withdrawn_by    bigint REFERENCES users (id),
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
);
CREATE UNIQUE INDEX calendar_exceptions_in_force ON calendar_exceptions (day) WHERE withdrawn_at IS NULL;
