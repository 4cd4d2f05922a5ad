-- @app/events: the transactional outbox (model EventOutbox in ../schema.prisma).
CREATE TABLE IF NOT EXISTS app_events_outbox (
  seq        BIGSERIAL PRIMARY KEY,
  id         TEXT NOT NULL,
  name       TEXT NOT NULL,
  payload    JSONB NOT NULL,
  source     TEXT,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS app_events_outbox_id_key ON app_events_outbox (id);
