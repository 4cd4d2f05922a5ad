-- @app/events 0002: the trace context carried with each outbox row (nullable; written only when traced),
-- and the claim columns the SQLite relay uses (unused on MySQL/MariaDB, which lock rows instead).
ALTER TABLE `app_events_outbox` ADD COLUMN `headers` JSON NULL;
ALTER TABLE `app_events_outbox` ADD COLUMN `claim_token` TEXT NULL;
ALTER TABLE `app_events_outbox` ADD COLUMN `claim_expires_at` BIGINT NULL;
