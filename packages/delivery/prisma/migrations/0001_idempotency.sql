-- @app/delivery: the idempotency store of every channel (model DeliveryIdempotencyKey in prisma/schema.prisma).
-- A row is a live reservation while result IS NULL and expires_at is in the future; a completed send
-- keeps its result until expires_at. Expired rows are taken over by the next reserve.
CREATE TABLE IF NOT EXISTS app_delivery_idempotency (
  key         TEXT NOT NULL PRIMARY KEY,
  token       TEXT,
  fingerprint TEXT NOT NULL,
  result      JSONB,
  expires_at  TIMESTAMPTZ(3) NOT NULL
);

CREATE INDEX IF NOT EXISTS app_delivery_idempotency_expires_at_idx ON app_delivery_idempotency (expires_at);
