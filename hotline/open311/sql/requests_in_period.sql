-- GET requests: the service requests Open311 clients submitted (web tickets logged by an account holding an API key),
-- received in [$1, $2], newest first. $3 categories (text[], NULL: all), $4 closed? (NULL: open and closed),
-- $5 page size, $6 rows to skip (the `page` extension; the period bounds it to 90 days).
SELECT t.number, t.status, t.closure, t.category, t.content, t.unit, t.reply_content, t.answer, t.received_at,
       t.updated_at, t.closed_at, t.reply_due_at, t.address, t.lat, t.lng
FROM tickets t
WHERE t.channel = 'web' AND t.created_by IN (SELECT k.user_id FROM api_keys k)
  AND t.received_at >= $1 AND t.received_at <= $2
  AND ($3::text[] IS NULL OR t.category = any($3::text[]))
  AND ($4::boolean IS NULL OR (t.status = 'closed') = $4)
ORDER BY t.received_at DESC, t.id DESC
LIMIT $5 OFFSET $6
