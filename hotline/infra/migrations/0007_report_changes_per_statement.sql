-- Changed tickets queue their receipt days for the report rollups once per statement instead of once per row:
-- intake writes tickets in groups, and a per-row trigger call with its own INSERT cost every ticket about as much
-- as one of its foreign-key checks. One row per minute of receipt among the statement's tickets marks the same
-- days as one row per ticket (a local day starts on a whole minute in every time zone in use), in fewer rows.
DROP TRIGGER tickets_report_changes ON tickets;
DROP FUNCTION report_queue_ticket();

CREATE FUNCTION report_queue_tickets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_changes (received_at)
    SELECT min(received_at) FROM changed GROUP BY date_trunc('minute', received_at);
    RETURN NULL;
END;
$$;
-- A trigger with a transition table serves one event: one for inserts, one for updates.
CREATE TRIGGER tickets_report_inserted AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_queue_tickets();
CREATE TRIGGER tickets_report_updated AFTER UPDATE ON tickets
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION report_queue_tickets();
