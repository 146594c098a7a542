-- Escalation at scale: notifications (站内通知) of escalation steps, outbound webhook deliveries, the outbox between
-- recording a step and telling people of it, and a cheaper, stricter reference from a step to its clock.

-- A step's ticket and assignment are its clock's. One composite reference checks exactly that, where four
-- separate ones (clock, ticket, assignment, unit) checked only that each existed, at a lookup each per recorded
-- step, and made recording lock the ticket row (so it had to take ticket locks before clock locks). The unique
-- index it needs leads with ticket_id and so also serves the lookups clocks_ticket_idx served.
ALTER TABLE clocks ADD CONSTRAINT clocks_ticket_clock_assignment_key UNIQUE (ticket_id, id, assignment_id);
DROP INDEX clocks_ticket_idx;
ALTER TABLE escalation_steps
    DROP CONSTRAINT escalation_steps_clock_id_fkey,
    DROP CONSTRAINT escalation_steps_ticket_id_fkey,
    DROP CONSTRAINT escalation_steps_assignment_id_fkey,
    DROP CONSTRAINT escalation_steps_unit_fkey,
    ADD CONSTRAINT escalation_steps_clock_fkey FOREIGN KEY (ticket_id, clock_id, assignment_id)
        REFERENCES clocks (ticket_id, id, assignment_id);

-- Steps recorded and not yet told. Recording a step puts it here in the same statement; telling takes it out in the
-- transaction that writes its notifications and webhook deliveries, so a step is told once, and a step whose
-- recorder died before telling is still here for the sweep. Rows live for milliseconds: no reference to check.
CREATE TABLE escalation_outbox (
    step_id     bigint PRIMARY KEY,
    recorded_at timestamptz NOT NULL
);

-- One row per person told; UNIQUE (user_id, step_id) makes a second notification of a step to anyone impossible.
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    kind        text NOT NULL CHECK (kind IN ('escalation')),
    step_id     bigint NOT NULL REFERENCES escalation_steps (id),
    payload     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (user_id, step_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE read_at IS NULL;

-- One delivery per step and configured URL. Workers claim due rows with a lease (locked_until), so two workers
-- never post the same delivery at once; failures back off exponentially until `failed`.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    step_id         bigint NOT NULL REFERENCES escalation_steps (id),
    url             text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (step_id, url),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
