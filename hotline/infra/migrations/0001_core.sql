-- Core schema: reference data, accounts, tickets, assignments, clocks, escalation steps and the event log.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE channels (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('phone', 'transfer', 'web')),
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE territories (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name        text NOT NULL,
    parent      text REFERENCES territories (code)
);

CREATE TABLE categories (
    code        text PRIMARY KEY,
    name        text NOT NULL
);

CREATE TABLE kinds (
    code        text PRIMARY KEY,
    name        text NOT NULL
);

CREATE TABLE units (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    territory   text REFERENCES territories (code),
    active      boolean NOT NULL DEFAULT true
);

-- territory NULL means "*" (any territory); unit NULL with bureau_template means "{territory}-bureau".
CREATE TABLE routing_rules (
    id              integer PRIMARY KEY,
    category        text NOT NULL REFERENCES categories (code),
    territory       text REFERENCES territories (code),
    unit            text REFERENCES units (code),
    bureau_template boolean NOT NULL DEFAULT false,
    CHECK ((unit IS NULL) = bureau_template),
    UNIQUE NULLS NOT DISTINCT (category, territory)
);

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('agent', 'dispatcher', 'handler', 'manager', 'admin', 'integration')),
    unit            text REFERENCES units (code),
    channel         text REFERENCES channels (code),
    display_name    text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'handler') = (unit IS NOT NULL)),
    CHECK ((role = 'integration') = (channel IS NOT NULL))
);

-- Versioned SLA policy sets; the newest row is in force. Deadlines record the version they were computed with.
CREATE TABLE sla_policy_versions (
    version     integer PRIMARY KEY,
    rows        jsonb NOT NULL,
    source      text NOT NULL,
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Per channel and local day counters for human-readable ticket numbers (96196-20261122-000123).
CREATE TABLE ticket_counters (
    channel     text NOT NULL REFERENCES channels (code),
    day         date NOT NULL,
    last        integer NOT NULL,
    PRIMARY KEY (channel, day)
);

CREATE TABLE tickets (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number              text NOT NULL UNIQUE,
    channel             text NOT NULL REFERENCES channels (code),
    kind                text NOT NULL REFERENCES kinds (code),
    category            text REFERENCES categories (code),
    territory           text CHECK (territory ~ '^[0-9]{6}$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content             text NOT NULL CHECK (length(content) BETWEEN 1 AND 10000),
    caller_name         text,
    caller_phone        text,
    caller_phone_tail   text GENERATED ALWAYS AS (right(caller_phone, 4)) STORED,
    urgent              boolean NOT NULL DEFAULT false,
    address             text,
    lat                 double precision CHECK (lat BETWEEN -90 AND 90),
    lng                 double precision CHECK (lng BETWEEN -180 AND 180),
    external_ref        text,
    external_due_at     timestamptz,
    idempotency_key     text,
    status              text NOT NULL CHECK (status IN
                            ('pending_dispatch', 'dispatched', 'in_progress', 'return_requested', 'replied', 'closed')),
    closure             text CHECK (closure IN ('answered', 'callback_done', 'merged', 'rejected')),
    unit                text REFERENCES units (code),
    current_assignment_id bigint,
    routing             jsonb NOT NULL DEFAULT '{}'::jsonb,
    merged_into         bigint REFERENCES tickets (id),
    reply_content       text,
    reply_outcome       text CHECK (reply_outcome IN ('resolved', 'partly_resolved', 'unresolved', 'explained')),
    answer              text,
    reopen_count        integer NOT NULL DEFAULT 0,
    version             integer NOT NULL DEFAULT 1,
    created_by          bigint REFERENCES users (id),
    received_at         timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    replied_at          timestamptz,
    closed_at           timestamptz,
    -- Denormalised deadlines of the current assignment's clocks, for lists and queues sorted by time left.
    sign_due_at         timestamptz,
    reply_due_at        timestamptz,
    callback_due_at     timestamptz,
    CHECK ((status = 'closed') = (closure IS NOT NULL)),
    CHECK (merged_into IS NULL OR closure = 'merged'),
    CHECK (closure IS DISTINCT FROM 'merged' OR merged_into IS NOT NULL),
    CHECK (status <> 'pending_dispatch' OR unit IS NULL),
    UNIQUE (channel, external_ref),
    UNIQUE (created_by, idempotency_key)
);
CREATE INDEX tickets_created_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_received_idx ON tickets (received_at);
CREATE INDEX tickets_status_idx ON tickets (status, created_at DESC, id DESC);
CREATE INDEX tickets_unit_idx ON tickets (unit, created_at DESC, id DESC);
CREATE INDEX tickets_phone_idx ON tickets (caller_phone, created_at DESC);
CREATE INDEX tickets_text_trgm_idx ON tickets USING gin ((title || ' ' || content) gin_trgm_ops);
CREATE INDEX tickets_reply_due_idx ON tickets (unit, reply_due_at) WHERE status <> 'closed';
CREATE INDEX tickets_similar_idx ON tickets (category, territory, created_at DESC);

-- Each dispatch to a unit is an assignment; time is charged to the unit that held the ticket.
CREATE TABLE assignments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    seq             integer NOT NULL,
    unit            text NOT NULL REFERENCES units (code),
    origin          text NOT NULL CHECK (origin IN ('route', 'dispatch', 'redispatch', 'reopen')),
    dispatched_by   bigint REFERENCES users (id),
    started_at      timestamptz NOT NULL,
    signed_at       timestamptz,
    signed_by       bigint REFERENCES users (id),
    replied_at      timestamptz,
    returned_at     timestamptz,
    return_reason   text,
    return_proper   boolean,
    ended_at        timestamptz,
    end_reason      text CHECK (end_reason IN
                        ('replied', 'returned', 'withdrawn', 'merged', 'rejected', 'closed')),
    charged         boolean NOT NULL DEFAULT true,
    UNIQUE (ticket_id, seq),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE INDEX assignments_ticket_idx ON assignments (ticket_id);
CREATE INDEX assignments_unit_idx ON assignments (unit, started_at);
CREATE INDEX assignments_started_idx ON assignments (started_at);
CREATE UNIQUE INDEX assignments_one_open_idx ON assignments (ticket_id) WHERE ended_at IS NULL;
ALTER TABLE tickets ADD CONSTRAINT tickets_current_assignment_fk
    FOREIGN KEY (current_assignment_id) REFERENCES assignments (id) DEFERRABLE INITIALLY DEFERRED;

-- A clock (sign, reply, callback) with its deadline and escalation instants. `version` moves with the deadline,
-- so jobs armed for an old deadline recognise themselves as stale. next_step/next_step_at index the next due step
-- of running clocks: the sweep reads only what is due.
CREATE TABLE clocks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    assignment_id   bigint NOT NULL REFERENCES assignments (id),
    clock           text NOT NULL CHECK (clock IN ('sign', 'reply', 'callback')),
    unit            text REFERENCES units (code),
    started_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    warning_at      timestamptz NOT NULL,
    supervision_at  timestamptz NOT NULL,
    deadline        jsonb NOT NULL,
    provisional     boolean NOT NULL DEFAULT false,
    policy_version  integer NOT NULL,
    calendar_version text NOT NULL,
    version         integer NOT NULL DEFAULT 1,
    stopped_at      timestamptz,
    stop_reason     text,
    suspended_at    timestamptz,
    next_step       text CHECK (next_step IN ('warning', 'overdue', 'supervision')),
    next_step_at    timestamptz,
    UNIQUE (assignment_id, clock),
    CHECK ((next_step IS NULL) = (next_step_at IS NULL))
);
CREATE INDEX clocks_ticket_idx ON clocks (ticket_id);
CREATE INDEX clocks_next_step_idx ON clocks (next_step_at) WHERE next_step_at IS NOT NULL;
CREATE INDEX clocks_open_provisional_idx ON clocks (id) WHERE stopped_at IS NULL AND provisional;

-- Escalation steps are facts, never deleted: one per clock and step (a unique constraint, not a hope).
CREATE TABLE escalation_steps (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clock_id        bigint NOT NULL REFERENCES clocks (id),
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    assignment_id   bigint NOT NULL REFERENCES assignments (id),
    unit            text REFERENCES units (code),
    clock           text NOT NULL,
    step            text NOT NULL CHECK (step IN ('warning', 'overdue', 'supervision')),
    due_at          timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    clock_version   integer NOT NULL,
    source          text NOT NULL CHECK (source IN ('job', 'sweep')),
    resolved_at     timestamptz,
    UNIQUE (clock_id, step)
);
CREATE INDEX escalation_steps_open_idx ON escalation_steps (recorded_at DESC) WHERE resolved_at IS NULL;

CREATE TABLE extension_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    assignment_id   bigint NOT NULL REFERENCES assignments (id),
    requested_by    bigint REFERENCES users (id),
    requested_at    timestamptz NOT NULL,
    working_days    integer CHECK (working_days BETWEEN 1 AND 60),
    until_date      date,
    reason          text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'void')),
    decided_by      bigint REFERENCES users (id),
    decided_at      timestamptz,
    note            text,
    old_due_at      timestamptz,
    new_due_at      timestamptz,
    CHECK ((working_days IS NULL) <> (until_date IS NULL))
);
CREATE UNIQUE INDEX extension_one_pending_idx ON extension_requests (assignment_id) WHERE status = 'pending';

CREATE TABLE callbacks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    assignment_id   bigint NOT NULL REFERENCES assignments (id),
    at              timestamptz NOT NULL,
    by_user         bigint REFERENCES users (id),
    contacted       boolean NOT NULL,
    resolved        text CHECK (resolved IN ('resolved', 'partly', 'unresolved')),
    satisfaction    text NOT NULL CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied', 'no_answer')),
    note            text
);
CREATE INDEX callbacks_ticket_idx ON callbacks (ticket_id);
CREATE INDEX callbacks_at_idx ON callbacks (at);

-- The append-only event log (全程留痕); the ticket row is its projection, written in the same transaction.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    assignment_id   bigint REFERENCES assignments (id),
    at              timestamptz NOT NULL,
    actor_id        bigint REFERENCES users (id),
    actor           text NOT NULL,
    role            text NOT NULL,
    unit            text,
    action          text NOT NULL,
    status_before   text,
    status_after    text,
    version         integer NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX events_ticket_idx ON events (ticket_id, id);
CREATE INDEX events_action_at_idx ON events (action, at);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER escalation_steps_no_delete BEFORE DELETE ON escalation_steps
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
