-- Lock the clocks of a batch that still run under an older policy version, in id order.
-- $1 the clock ids, $2 the policy version being put in force.
SELECT id, ticket_id, assignment_id, clock, deadline FROM clocks
WHERE id = any($1::bigint[]) AND stopped_at IS NULL AND policy_version < $2
ORDER BY id
FOR UPDATE
