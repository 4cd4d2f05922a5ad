-- @app/email: idempotency store (model EmailIdempotencyKey in prisma/schema.prisma).
-- A row is a live reservation while value IS NULL and expires_at is in the future; a completed send
-- keeps its result in value until expires_at. Expired rows are taken over by the next begin.
CREATE TABLE IF NOT EXISTS app_email_idempotency (
  key        TEXT NOT NULL PRIMARY KEY,
  token      TEXT,
  value      TEXT,
  expires_at TIMESTAMPTZ(3) NOT NULL
);

CREATE INDEX IF NOT EXISTS app_email_idempotency_expires_at_idx ON app_email_idempotency (expires_at);
