-- The unit that held a ticket at an instant (the transfer's upstream deadline), the latest assignment if several.
-- $1 ticket_id, $2 the instant.
SELECT unit FROM assignments WHERE ticket_id = $1 AND started_at < $2 AND (ended_at IS NULL OR ended_at >= $2)
    ORDER BY seq DESC LIMIT 1
