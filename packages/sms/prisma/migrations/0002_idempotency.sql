-- @app/sms: idempotency store (model SmsIdempotencyKey in prisma/schema.prisma).
-- A row is a live reservation while result IS NULL and expires_at is in the future; a completed send
-- keeps its result until expires_at. Expired rows are taken over by the next reserve.
CREATE TABLE IF NOT EXISTS app_sms_idempotency (
  key         TEXT NOT NULL PRIMARY KEY,
  token       TEXT,
  fingerprint TEXT NOT NULL,
  result      JSONB,
  expires_at  TIMESTAMPTZ(3) NOT NULL
);

CREATE INDEX IF NOT EXISTS app_sms_idempotency_expires_at_idx ON app_sms_idempotency (expires_at);
