-- Copy the moved deadlines of current assignments onto the ticket projection (sign_due_at, reply_due_at,
-- callback_due_at). $1 ticket ids, $2 assignment ids, $3 clocks (sign, reply, callback), $4 the new due instants,
-- one element per moved clock.
UPDATE tickets t
SET sign_due_at = coalesce(x.sign, t.sign_due_at), reply_due_at = coalesce(x.reply, t.reply_due_at),
    callback_due_at = coalesce(x.callback, t.callback_due_at)
FROM (
    SELECT m.ticket_id, m.assignment_id,
           max(m.due_at) FILTER (WHERE m.clock = 'sign') AS sign,
           max(m.due_at) FILTER (WHERE m.clock = 'reply') AS reply,
           max(m.due_at) FILTER (WHERE m.clock = 'callback') AS callback
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[])
        AS m (ticket_id, assignment_id, clock, due_at)
    GROUP BY m.ticket_id, m.assignment_id
) x
WHERE t.id = x.ticket_id AND t.current_assignment_id = x.assignment_id
