-- The request id of an upstream platform's recall, urge or supplement, in the action's transaction: a second
-- request with the id conflicts on the primary key. $1 channel, $2 request id, $3 action, $4 ticket_id,
-- $5 fingerprint of the request, $6 at.
INSERT INTO upstream_requests (channel, request_id, action, ticket_id, fingerprint, at)
VALUES ($1, $2, $3, $4, $5, $6)
