-- @app/sms: delivery status store (model SmsStatus in prisma/schema.prisma).
CREATE TABLE IF NOT EXISTS app_sms_status (
  message_id TEXT NOT NULL PRIMARY KEY,
  status     TEXT NOT NULL,
  rank       INTEGER NOT NULL,
  provider   TEXT,
  recipient  TEXT,
  error_code TEXT,
  updated_at TIMESTAMPTZ(3) NOT NULL
);

CREATE INDEX IF NOT EXISTS app_sms_status_updated_at_idx ON app_sms_status (updated_at);
