-- @app/otp: the tables of prismaOtpStore on mysql (prisma/schema.prisma's models rewritten by @app/prisma-schema:
-- `app-prisma sql --provider mysql otp`). OtpSendWindow.hits is a JSON array of epoch-ms numbers here.
CREATE TABLE `app_otp_challenges` (
  `key` VARCHAR(191) NOT NULL,
  `challenge_id` VARCHAR(191) NOT NULL,
  `code_hash` TEXT NOT NULL,
  `attempts` INTEGER NOT NULL DEFAULT 0,
  `max_attempts` INTEGER NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `last_sent_at` DATETIME(3) NOT NULL,
  `consumed_at` DATETIME(3),
  PRIMARY KEY (`key`),
  UNIQUE INDEX `app_otp_challenges_challenge_id_key`(`challenge_id`),
  INDEX `app_otp_challenges_expires_at_idx`(`expires_at`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `app_otp_send_windows` (
  `key` VARCHAR(191) NOT NULL,
  `hits` JSON NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`key`),
  INDEX `app_otp_send_windows_expires_at_idx`(`expires_at`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
