-- Webhook deliveries given up after their last attempt. $1 delivery ids, $2 the last error of each.
UPDATE webhook_deliveries d SET status = 'failed', locked_until = NULL, last_error = f.error
FROM unnest($1::bigint[], $2::text[]) AS f (id, error)
WHERE d.id = f.id
