-- @app/events 0002: the trace context carried with each outbox row (nullable; written only when traced),
-- and the relay's claim: which relay holds the row, until when (ms since the epoch).
ALTER TABLE "app_events_outbox" ADD COLUMN "headers" JSONB;
ALTER TABLE "app_events_outbox" ADD COLUMN "claim_token" TEXT;
ALTER TABLE "app_events_outbox" ADD COLUMN "claim_expires_at" BIGINT;
