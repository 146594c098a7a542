-- assignments (ticket_id) is served by the unique index on (ticket_id, seq), which starts with it: the second index
-- only cost every dispatch an index insertion.
DROP INDEX assignments_ticket_idx;
