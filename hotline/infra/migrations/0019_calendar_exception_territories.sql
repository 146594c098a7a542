-- Local calendar exceptions per territory (属地, issue 22): a typhoon day off declared in 启东市 moves only the
-- deadlines of tickets in 320681. `territories` lists the GB/T 2260 codes an exception applies to, sorted and
-- without repeats; empty means the whole city (as every exception saved before this migration).
ALTER TABLE calendar_exceptions ADD COLUMN territories text[] NOT NULL DEFAULT '{}';

-- At most one exception in force per day and territory, a city-wide one covering every territory: two in force on
-- one day must name disjoint territories. A unique index cannot say that of arrays, so a trigger does, under a lock
-- per day (two concurrent saves of one day queue on it, and the second sees the first once it commits).
DROP INDEX calendar_exceptions_in_force;
CREATE INDEX calendar_exceptions_in_force ON calendar_exceptions (day) WHERE withdrawn_at IS NULL;

CREATE FUNCTION calendar_exception_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unknown text;
BEGIN
    IF NEW.territories IS DISTINCT FROM ARRAY(SELECT DISTINCT t FROM unnest(NEW.territories) AS t ORDER BY t) THEN
        RAISE EXCEPTION 'calendar exception territories must be sorted and distinct: %', NEW.territories
            USING ERRCODE = 'check_violation', CONSTRAINT = 'calendar_exceptions_territories_check';
    END IF;
    SELECT t INTO unknown FROM unnest(NEW.territories) AS t
    WHERE NOT EXISTS (SELECT 1 FROM territories WHERE code = t) LIMIT 1;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'calendar exception names unknown territory %', unknown
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'calendar_exceptions_territories_fkey';
    END IF;
    IF NEW.withdrawn_at IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('calendar_exceptions'), NEW.day - date '2000-01-01');
        IF EXISTS (
            SELECT 1 FROM calendar_exceptions e
            WHERE e.day = NEW.day AND e.withdrawn_at IS NULL AND e.id <> NEW.id
              AND (cardinality(e.territories) = 0 OR cardinality(NEW.territories) = 0
                   OR e.territories && NEW.territories)
        ) THEN
            RAISE EXCEPTION 'a calendar exception is already in force on % for these territories', NEW.day
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'calendar_exceptions_in_force';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER calendar_exceptions_check BEFORE INSERT OR UPDATE ON calendar_exceptions
    FOR EACH ROW EXECUTE FUNCTION calendar_exception_check();
