-- GET requests?service_request_id=… and GET requests/{id}: the Open311-submitted service requests with these
-- numbers (web tickets logged by an account holding an API key), newest first. $1 ticket numbers (text[]).
SELECT t.number, t.status, t.closure, t.category, t.content, t.unit, t.reply_content, t.answer, t.received_at,
       t.updated_at, t.closed_at, t.reply_due_at, t.address, t.lat, t.lng
FROM tickets t
WHERE t.number = any($1::text[]) AND t.channel = 'web' AND t.created_by IN (SELECT k.user_id FROM api_keys k)
ORDER BY t.received_at DESC, t.id DESC
