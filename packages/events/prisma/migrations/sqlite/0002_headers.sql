-- @app/events 0002: the trace context carried with each outbox row (nullable; written only when traced).
ALTER TABLE "app_events_outbox" ADD COLUMN "headers" JSONB;
