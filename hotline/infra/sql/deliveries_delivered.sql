-- Webhook deliveries the receiver accepted (2xx). $1 delivery ids, $2 the instant delivered.
UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, locked_until = NULL, last_error = NULL
WHERE id = any($1::bigint[])
