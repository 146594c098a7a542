-- The dispatch clock (派单时限, issue 23): 限时办结 covers the dispatcher's stage too. A ticket waiting in
-- pending_dispatch (and a return waiting for the dispatcher's ruling, 退单待审) carries a `dispatch` clock, which
-- belongs to the ticket, not to any unit's assignment: no unit holds the ticket while it waits for a dispatcher.
-- Every other clock still needs its assignment, and a dispatch clock never has one (nor a unit).
ALTER TABLE clocks ALTER COLUMN assignment_id DROP NOT NULL;
ALTER TABLE clocks DROP CONSTRAINT clocks_clock_check;
ALTER TABLE clocks ADD CONSTRAINT clocks_clock_check CHECK (clock IN ('sign', 'reply', 'callback', 'dispatch'));
ALTER TABLE clocks ADD CONSTRAINT clocks_dispatch_check
    CHECK ((clock = 'dispatch') = (assignment_id IS NULL) AND (clock <> 'dispatch' OR unit IS NULL));
-- UNIQUE (assignment_id, clock) says one clock of a kind per assignment; for the ticket's own dispatch clock: at
-- most one running at a time (a ticket can wait for a dispatcher again later, after a return).
CREATE UNIQUE INDEX clocks_dispatch_running_key ON clocks (ticket_id) WHERE clock = 'dispatch' AND stopped_at IS NULL;

-- A step's ticket and assignment are its clock's (escalation_steps_clock_fkey, on (ticket_id, clock_id,
-- assignment_id)). A dispatch clock's step has no assignment, which that composite reference does not check
-- (MATCH SIMPLE), so a trigger checks those rows only: the step's clock exists, is a dispatch clock, and is on
-- the same ticket. The other steps pay nothing for it.
ALTER TABLE escalation_steps ALTER COLUMN assignment_id DROP NOT NULL;
ALTER TABLE escalation_steps ADD CONSTRAINT escalation_steps_dispatch_check
    CHECK ((clock = 'dispatch') = (assignment_id IS NULL));

CREATE FUNCTION escalation_step_dispatch_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM clocks c
                   WHERE c.id = NEW.clock_id AND c.ticket_id = NEW.ticket_id AND c.clock = 'dispatch') THEN
        RAISE EXCEPTION 'escalation step of clock % on ticket %: no such dispatch clock', NEW.clock_id, NEW.ticket_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'escalation_steps_clock_fkey';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER escalation_steps_dispatch_clock BEFORE INSERT OR UPDATE ON escalation_steps
    FOR EACH ROW WHEN (NEW.assignment_id IS NULL) EXECUTE FUNCTION escalation_step_dispatch_clock();
