-- @app/config: the ConfigEntry model (prisma/schema.prisma) for MySQL 8 / MariaDB 10.11.
-- `key` is compared byte for byte (utf8mb4_bin): config keys are case-sensitive and list in byte order.
CREATE TABLE `app_config_entries` (
  `key`        VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  `value`      LONGTEXT     NOT NULL,
  `version`    BIGINT       NOT NULL,
  `deleted`    BOOLEAN      NOT NULL DEFAULT false,
  `expires_at` DATETIME(3)  NULL,
  `updated_at` DATETIME(3)  NOT NULL,
  PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
