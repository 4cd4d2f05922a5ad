-- @app/permissions on MySQL 8 / MariaDB 10.11 (generated from prisma/schema.prisma by @app/prisma-schema).
-- utf8mb4_bin: subjects, roles and resource ids compare exactly (a _ci collation would make "Alice" and
-- "alice" one subject).
CREATE TABLE `app_permissions_roles` (
  `name` VARCHAR(191) NOT NULL,
  `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE `app_permissions_rules` (
  `role` VARCHAR(191) NOT NULL,
  `effect` VARCHAR(191) NOT NULL,
  `resource` VARCHAR(191) NOT NULL,
  `action` VARCHAR(191) NOT NULL,
  `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`role`, `effect`, `resource`, `action`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE `app_permissions_role_parents` (
  `role` VARCHAR(191) NOT NULL,
  `parent` VARCHAR(191) NOT NULL,
  PRIMARY KEY (`role`, `parent`),
  INDEX `app_permissions_role_parents_parent_idx`(`parent`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE `app_permissions_assignments` (
  `subject` VARCHAR(153) NOT NULL,
  `role` VARCHAR(153) NOT NULL,
  `tenant` VARCHAR(153) NOT NULL DEFAULT '',
  `resource_type` VARCHAR(153) NOT NULL DEFAULT '',
  `resource_id` VARCHAR(153) NOT NULL DEFAULT '',
  `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (`subject`, `role`, `tenant`, `resource_type`, `resource_id`),
  INDEX `app_permissions_assignments_role_idx`(`role`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE `app_permissions_rules` ADD CONSTRAINT `app_permissions_rules_role_fkey` FOREIGN KEY (`role`) REFERENCES `app_permissions_roles`(`name`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `app_permissions_role_parents` ADD CONSTRAINT `app_permissions_role_parents_role_fkey` FOREIGN KEY (`role`) REFERENCES `app_permissions_roles`(`name`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `app_permissions_role_parents` ADD CONSTRAINT `app_permissions_role_parents_parent_fkey` FOREIGN KEY (`parent`) REFERENCES `app_permissions_roles`(`name`) ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE `app_permissions_assignments` ADD CONSTRAINT `app_permissions_assignments_role_fkey` FOREIGN KEY (`role`) REFERENCES `app_permissions_roles`(`name`) ON DELETE CASCADE ON UPDATE CASCADE;
