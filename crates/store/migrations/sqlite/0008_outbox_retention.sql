-- Outbox messages are pruned after a retention period (by creation time); delivered messages are
-- kept redacted outside development mode (no schema change: the record is JSON).
CREATE INDEX outbox_by_created ON outbox(created_at);
