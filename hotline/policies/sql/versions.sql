-- Every stored SLA policy version, newest first, with its row count and where its recomputation stands. No parameters.
SELECT v.version, v.source, v.created_at, u.username AS created_by, v.reason, v.recompute_requested,
       v.recompute_done_at, jsonb_array_length(coalesce(v.rows -> 'policy', '[]'::jsonb)) AS rows
FROM sla_policy_versions v LEFT JOIN users u ON u.id = v.created_by
ORDER BY v.version DESC
