-- Closure-rate reports: rollups by local day of receipt, the change queue that keeps them exact, daily digests.
-- hotline/reports/core.py explains how a report combines these with a live computation; nothing here is a source of
-- truth: every row can be rebuilt from tickets, assignments, clocks, callbacks, extension_requests and events.

-- Working time from dispatch to reply, measured on the calendar at reply time (lifecycle.reply writes it;
-- the rollup job backfills rows replied before this column existed).
ALTER TABLE assignments ADD COLUMN reply_working_seconds double precision;
CREATE INDEX assignments_reply_hours_missing_idx ON assignments (id)
    WHERE replied_at IS NOT NULL AND reply_working_seconds IS NULL;

-- Reply deadlines by instant, to count the assignments falling due on the day of `as_of` without a scan.
CREATE INDEX clocks_reply_due_idx ON clocks (due_at) INCLUDE (assignment_id, ticket_id) WHERE clock = 'reply';

-- Approved extensions of the assignments of a few days' tickets, looked up by assignment.
CREATE INDEX extension_requests_assignment_idx ON extension_requests (assignment_id);

-- Additive figures per local day of receipt and group. `unit` is the unit each figure is charged to: the
-- ticket's current unit for ticket figures (received, closed), the assignment's unit for the others.
-- reply_hours holds the working hours dispatch->reply of the replied charged assignments (for p50/p90).
CREATE TABLE report_daily (
    day             date NOT NULL,
    unit            text,
    territory       text,
    channel         text NOT NULL,
    category        text,
    kind            text NOT NULL,
    received        integer NOT NULL DEFAULT 0,
    closed          integer NOT NULL DEFAULT 0,
    dispatched      integer NOT NULL DEFAULT 0,
    signed_on_time  integer NOT NULL DEFAULT 0,
    replied         integer NOT NULL DEFAULT 0,
    replied_on_time integer NOT NULL DEFAULT 0,
    returned        integer NOT NULL DEFAULT 0,
    callbacks       integer NOT NULL DEFAULT 0,
    satisfied       integer NOT NULL DEFAULT 0,
    resolved        integer NOT NULL DEFAULT 0,
    extensions      integer NOT NULL DEFAULT 0,
    urges           integer NOT NULL DEFAULT 0,
    reply_hours     double precision[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX report_daily_key_idx ON report_daily (day, unit, territory, channel, category, kind)
    NULLS NOT DISTINCT;

-- Charged assignments not replied (yet), by the local day their reply deadline falls on: a report counts those
-- due before the day of `as_of` from here and looks up the ones due on that day by instant.
CREATE TABLE report_pending (
    day             date NOT NULL,
    unit            text NOT NULL,
    territory       text,
    channel         text NOT NULL,
    category        text,
    kind            text NOT NULL,
    due_on          date NOT NULL,
    unreplied       integer NOT NULL,
    open            integer NOT NULL,
    CHECK (open <= unreplied)
);
CREATE UNIQUE INDEX report_pending_key_idx ON report_pending (day, unit, territory, channel, category, kind, due_on)
    NULLS NOT DISTINCT;

-- The same per calendar month of receipt (month = its first day), summed from the days' rows whenever a day of
-- the month is rewritten: a report over whole months reads a month's row instead of thirty days' rows.
CREATE TABLE report_monthly (LIKE report_daily INCLUDING DEFAULTS);
ALTER TABLE report_monthly RENAME COLUMN day TO month;
ALTER TABLE report_monthly ADD CHECK (extract(day FROM month) = 1);
CREATE UNIQUE INDEX report_monthly_key_idx ON report_monthly (month, unit, territory, channel, category, kind)
    NULLS NOT DISTINCT;
CREATE TABLE report_pending_monthly (LIKE report_pending INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE report_pending_monthly RENAME COLUMN day TO month;
ALTER TABLE report_pending_monthly ADD CHECK (extract(day FROM month) = 1);
CREATE UNIQUE INDEX report_pending_monthly_key_idx
    ON report_pending_monthly (month, unit, territory, channel, category, kind, due_on) NULLS NOT DISTINCT;

-- Receipt instants of tickets changed since the rollup job last ran: their days are computed live until the job
-- consumes the row and rewrites the day in the same transaction. Plain inserts: no row is ever contended.
CREATE TABLE report_changes (
    received_at     timestamptz NOT NULL
);
CREATE INDEX report_changes_received_idx ON report_changes (received_at);

CREATE FUNCTION report_queue_ticket() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (received_at) VALUES (NEW.received_at);
    RETURN NULL;
END;
$$;
CREATE TRIGGER tickets_report_changes AFTER INSERT OR UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION report_queue_ticket();

-- A deadline may move without the ticket row changing (e.g. a provisional deadline recomputed).
CREATE FUNCTION report_queue_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (received_at) SELECT received_at FROM tickets WHERE id = NEW.ticket_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER clocks_report_changes AFTER UPDATE OF due_at ON clocks
    FOR EACH ROW WHEN (OLD.due_at IS DISTINCT FROM NEW.due_at) EXECUTE FUNCTION report_queue_clock();

-- Tickets already in the database are rolled up by the job's first run.
INSERT INTO report_changes (received_at) SELECT DISTINCT received_at FROM tickets;

-- Daily digests (日报), one per unit and one for managers per local day; stored, then pushed to webhooks.
CREATE TABLE report_digests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day             date NOT NULL,
    audience        text NOT NULL CHECK (audience IN ('unit', 'managers')),
    unit            text REFERENCES units (code),
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    pushed_urls     text[] NOT NULL DEFAULT '{}',    -- webhook URLs that accepted it
    pushed_at       timestamptz,                     -- when every configured URL had
    CHECK ((audience = 'unit') = (unit IS NOT NULL))
);
CREATE UNIQUE INDEX report_digests_key_idx ON report_digests (day, audience, unit) NULLS NOT DISTINCT;
