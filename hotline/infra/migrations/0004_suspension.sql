-- 挂起: a ticket's reply clock can be paused (e.g. waiting on another authority) and resumed with the time left.
ALTER TABLE tickets ADD COLUMN suspended_at timestamptz;
