-- One saved calendar exception. $1 its id.
SELECT e.id, e.day, e.working, e.reason, e.territories, e.created_at, c.username AS created_by, e.withdrawn_at,
       w.username AS withdrawn_by
FROM calendar_exceptions e
JOIN users c ON c.id = e.created_by
LEFT JOIN users w ON w.id = e.withdrawn_by
WHERE e.id = $1
