-- A transfer's upstream receipt: when the citizen called the upstream platform (12345, 12328, 12319). The upstream
-- deadline (external_due_at) runs from it; the unit's clocks start at local receipt (received_at).
ALTER TABLE tickets ADD COLUMN upstream_received_at timestamptz;
ALTER TABLE tickets ADD CONSTRAINT tickets_upstream_received_check CHECK (
    upstream_received_at IS NULL
    OR (external_ref IS NOT NULL AND upstream_received_at <= received_at
        AND (external_due_at IS NULL OR upstream_received_at <= external_due_at)));
