-- @app/delivery: the delivery status store of every channel (models DeliveryStatus and DeliveryStatusEvent in
-- prisma/schema.prisma), and idempotency keys bounded to 320 characters (the key column of MySQL/MariaDB).
ALTER TABLE app_delivery_idempotency ALTER COLUMN key TYPE VARCHAR(320);

CREATE TABLE IF NOT EXISTS app_delivery_status (
  message_id VARCHAR(300) NOT NULL PRIMARY KEY,
  status     TEXT NOT NULL,
  rank       INTEGER NOT NULL,
  provider   TEXT,
  details    TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  event_id   VARCHAR(300) NOT NULL
);

CREATE INDEX IF NOT EXISTS app_delivery_status_updated_at_idx ON app_delivery_status (updated_at);

CREATE TABLE IF NOT EXISTS app_delivery_status_event (
  message_id VARCHAR(300) NOT NULL,
  event_id   VARCHAR(300) NOT NULL,
  status     TEXT NOT NULL,
  provider   TEXT,
  details    TEXT NOT NULL,
  at         BIGINT NOT NULL,
  token      TEXT NOT NULL,
  seq        BIGSERIAL NOT NULL,
  CONSTRAINT app_delivery_status_event_pkey PRIMARY KEY (message_id, event_id)
);

CREATE INDEX IF NOT EXISTS app_delivery_status_event_message_id_seq_idx ON app_delivery_status_event (message_id, seq);
