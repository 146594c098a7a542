-- The next running clocks still under an older policy version, in id order (keyset).
-- $1 the last clock id examined (0 at first), $2 the policy version being put in force, $3 the batch size.
SELECT id, ticket_id FROM clocks
WHERE stopped_at IS NULL AND id > $1 AND policy_version < $2
ORDER BY id
LIMIT $3
