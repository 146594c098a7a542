-- Who exported what (every CSV/XLSX file of figures leaves the service with the person who asked for it named):
-- append-only, like the event log.
CREATE TABLE export_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        bigint NOT NULL REFERENCES users (id),
    actor           text NOT NULL,
    role            text NOT NULL,
    unit            text,
    report          text NOT NULL,
    format          text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    query           jsonb NOT NULL,
    row_count       integer NOT NULL CHECK (row_count >= 0),
    client          text
);
CREATE INDEX export_audit_at_idx ON export_audit (at DESC, id DESC);
CREATE INDEX export_audit_actor_idx ON export_audit (actor_id, at DESC);

CREATE TRIGGER export_audit_no_change BEFORE UPDATE OR DELETE ON export_audit
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER export_audit_no_truncate BEFORE TRUNCATE ON export_audit
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
