-- @app/events 0002: the trace context carried with each outbox row (nullable; written only when traced),
-- and the claim columns the SQLite relay uses (unused on PostgreSQL, which locks rows instead).
ALTER TABLE app_events_outbox ADD COLUMN IF NOT EXISTS headers JSONB;
ALTER TABLE app_events_outbox ADD COLUMN IF NOT EXISTS claim_token TEXT;
ALTER TABLE app_events_outbox ADD COLUMN IF NOT EXISTS claim_expires_at BIGINT;
