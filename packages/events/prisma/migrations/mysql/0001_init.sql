-- @app/events: the transactional outbox (model EventOutbox in ../../schema.prisma), for mysql.
CREATE TABLE `app_events_outbox` (
  `seq` BIGINT NOT NULL AUTO_INCREMENT,
  `id` VARCHAR(191) NOT NULL,
  `name` TEXT NOT NULL,
  `payload` JSON NOT NULL,
  `source` TEXT,
  `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`seq`),
  UNIQUE INDEX `app_events_outbox_id_key`(`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
