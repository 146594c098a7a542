-- One stored SLA policy version with who saved it: $1 the version number, or NULL for the latest (the set in force).
SELECT v.version, v.rows, v.source, v.created_at, u.username AS created_by, v.reason
FROM sla_policy_versions v LEFT JOIN users u ON u.id = v.created_by
WHERE $1::integer IS NULL OR v.version = $1
ORDER BY v.version DESC
LIMIT 1
