-- New tickets in one statement, each with its first assignment, clocks and events (group commit); a ticket no rule
-- routed has no assignment and one clock, its dispatch clock.
-- $1 tickets, $2 clocks, $3 events: JSON arrays of objects (one document each instead of dozens of array
-- parameters; PostgreSQL parses JSON faster than quoted array literals of JSON); clocks and events name their
-- ticket by its ordinal `ti` in the group.
--
-- Numbers come from one counter row per channel and local day, incremented by this same statement: a group's
-- tickets are numbered in arrival order, a group that fails leaves no gap, and groups of different API processes
-- take the counter in turn (its row lock is held to the commit), so numbers follow the order in which groups are
-- written, across processes too. The counter rows are taken in (channel, day) order: two groups needing the same
-- two counters cannot deadlock. A ticket that conflicts (a twin with the same external_ref or Idempotency-Key) is
-- skipped with everything that hangs on it; its number is a gap.
-- The first step of the ladder and its instant column are filled in from hotline.escalation.ladder.
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
        i integer, day date, channel text, kind text, category text, territory text, title text, content text,
        caller_name text, caller_phone text, urgent boolean, address text, lat double precision, lng double precision,
        external_ref text, external_due_at timestamptz, idempotency_key text, status text, unit text, routing jsonb,
        created_by bigint, received_at timestamptz, sign_due_at timestamptz, reply_due_at timestamptz,
        upstream_received_at timestamptz)
), wanted AS (
    SELECT channel, day, count(*)::integer AS n FROM r GROUP BY channel, day
), counter AS (
    INSERT INTO ticket_counters AS tc (channel, day, last)
    SELECT channel, day, n FROM wanted ORDER BY channel, day
    ON CONFLICT (channel, day) DO UPDATE SET last = tc.last + EXCLUDED.last
    RETURNING channel, day, last
), numbered AS (
    SELECT q.*, q.channel || '-' || to_char(q.day, 'YYYYMMDD') || '-' ||
           CASE WHEN q.seq < 1000000 THEN lpad(q.seq::text, 6, '0') ELSE q.seq::text END AS number
    FROM (SELECT r.*, k.last - w.n + row_number() OVER (PARTITION BY r.channel, r.day ORDER BY r.i) AS seq
          FROM r JOIN counter k ON k.channel = r.channel AND k.day = r.day
          JOIN wanted w ON w.channel = r.channel AND w.day = r.day) q
), t AS (
    INSERT INTO tickets AS t (number, channel, kind, category, territory, title, content, caller_name, caller_phone,
                              urgent, address, lat, lng, external_ref, external_due_at, idempotency_key, status, unit,
                              current_assignment_id, routing, created_by, received_at, created_at, updated_at,
                              sign_due_at, reply_due_at, upstream_received_at)
    SELECT r.number, r.channel, r.kind, r.category, r.territory, r.title, r.content, r.caller_name, r.caller_phone,
           r.urgent, r.address, r.lat, r.lng, r.external_ref, r.external_due_at, r.idempotency_key, r.status, r.unit,
           CASE WHEN r.unit IS NOT NULL THEN nextval(pg_get_serial_sequence('assignments', 'id')) END, r.routing,
           r.created_by, r.received_at, r.received_at, r.received_at, r.sign_due_at, r.reply_due_at,
           r.upstream_received_at
    FROM numbered r ORDER BY r.i
    ON CONFLICT DO NOTHING
    RETURNING t.id, t.number, t.unit, t.received_at, t.current_assignment_id, t.closure, t.reopen_count, t.version
), a AS (
    INSERT INTO assignments (id, ticket_id, seq, unit, origin, started_at)
    OVERRIDING SYSTEM VALUE
    SELECT t.current_assignment_id, t.id, 1, t.unit, 'route', t.received_at FROM t WHERE t.unit IS NOT NULL
    RETURNING id, ticket_id, unit, started_at
), c AS (
    INSERT INTO clocks (ticket_id, assignment_id, clock, unit, started_at, due_at, warning_at, supervision_at,
                        deadline, provisional, policy_version, calendar_version, next_step, next_step_at)
    SELECT t.id, a.id, k.clock, a.unit, t.received_at, k.due_at, k.warning_at, k.supervision_at, k.deadline,
           k.provisional, k.policy_version, k.calendar_version, '{first_step}', k.{first_instant}
    FROM jsonb_to_recordset($2::jsonb) AS k(
        i integer, ti integer, clock text, due_at timestamptz, warning_at timestamptz, supervision_at timestamptz,
        deadline jsonb, provisional boolean, policy_version integer, calendar_version text)
    -- A routed ticket's clocks are its first assignment's; an unrouted one's dispatch clock is the ticket's own.
    JOIN numbered nb ON nb.i = k.ti JOIN t ON t.number = nb.number LEFT JOIN a ON a.ticket_id = t.id
    ORDER BY k.i
    RETURNING id, ticket_id, clock, version
), e AS (
    INSERT INTO events (ticket_id, assignment_id, at, actor_id, actor, role, unit, action, status_before,
                        status_after, version, payload)
    SELECT t.id, CASE WHEN ev.action = 'route' THEN t.current_assignment_id END, t.received_at, ev.actor_id,
           ev.actor, ev.role, ev.unit, ev.action, ev.status_before, ev.status_after, 1, ev.payload
    FROM jsonb_to_recordset($3::jsonb) AS ev(
        i integer, ti integer, actor_id bigint, actor text, role text, unit text, action text, status_before text,
        status_after text, payload jsonb)
    JOIN numbered nb ON nb.i = ev.ti JOIN t ON t.number = nb.number
    ORDER BY ev.i
)
SELECT t.*, nb.i, (SELECT coalesce(array_agg(c.id || ':' || c.version || ':' || c.clock ORDER BY c.id), '{}')
                   FROM c WHERE c.ticket_id = t.id) AS clocks
FROM t JOIN numbered nb ON nb.number = t.number
