-- @app/email: delivery status store (models EmailStatus and EmailEvent in prisma/schema.prisma).
CREATE TABLE IF NOT EXISTS app_email_status (
  message_id TEXT NOT NULL PRIMARY KEY,
  status     TEXT NOT NULL,
  rank       INTEGER NOT NULL,
  provider   TEXT NOT NULL,
  updated_at TIMESTAMPTZ(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS app_email_event (
  message_id  TEXT NOT NULL,
  id          TEXT NOT NULL,
  status      TEXT NOT NULL,
  provider    TEXT NOT NULL,
  recipient   TEXT,
  reason      TEXT,
  occurred_at TIMESTAMPTZ(3) NOT NULL,
  seq         BIGSERIAL NOT NULL,
  CONSTRAINT app_email_event_pkey PRIMARY KEY (message_id, id)
);

CREATE INDEX IF NOT EXISTS app_email_event_message_id_seq_idx ON app_email_event (message_id, seq);
