-- What administrators changed (accounts, and later units, rules, policies, calendar): who, when, what it was and
-- what it became. Append-only for the runtime role, like the ticket events: the record of a change is not edited.
CREATE TABLE admin_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       bigint NOT NULL REFERENCES users (id),
    what        text NOT NULL,
    subject     text NOT NULL,
    before      jsonb,
    after       jsonb
);
CREATE INDEX admin_events_subject ON admin_events (what, subject, at DESC);

-- A password an administrator set (a reset) is a one-time password: the account must choose its own at sign-in.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- Why an administrator changed the SLA policies (asked for with each new version made in the console or API).
ALTER TABLE sla_policy_versions ADD COLUMN reason text;
