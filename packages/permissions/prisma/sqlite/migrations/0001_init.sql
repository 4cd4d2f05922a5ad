-- @app/permissions on SQLite (generated from prisma/schema.prisma by @app/prisma-schema).
CREATE TABLE "app_permissions_roles" (
  "name" TEXT NOT NULL,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "app_permissions_roles_pkey" PRIMARY KEY ("name")
);

CREATE TABLE "app_permissions_rules" (
  "role" TEXT NOT NULL,
  "effect" TEXT NOT NULL,
  "resource" TEXT NOT NULL,
  "action" TEXT NOT NULL,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "app_permissions_rules_pkey" PRIMARY KEY ("role", "effect", "resource", "action"),
  CONSTRAINT "app_permissions_rules_role_fkey" FOREIGN KEY ("role") REFERENCES "app_permissions_roles"("name") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "app_permissions_role_parents" (
  "role" TEXT NOT NULL,
  "parent" TEXT NOT NULL,
  CONSTRAINT "app_permissions_role_parents_pkey" PRIMARY KEY ("role", "parent"),
  CONSTRAINT "app_permissions_role_parents_role_fkey" FOREIGN KEY ("role") REFERENCES "app_permissions_roles"("name") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "app_permissions_role_parents_parent_fkey" FOREIGN KEY ("parent") REFERENCES "app_permissions_roles"("name") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "app_permissions_role_parents_parent_idx" ON "app_permissions_role_parents"("parent");

CREATE TABLE "app_permissions_assignments" (
  "subject" TEXT NOT NULL,
  "role" TEXT NOT NULL,
  "tenant" TEXT NOT NULL DEFAULT '',
  "resource_type" TEXT NOT NULL DEFAULT '',
  "resource_id" TEXT NOT NULL DEFAULT '',
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "app_permissions_assignments_pkey" PRIMARY KEY ("subject", "role", "tenant", "resource_type", "resource_id"),
  CONSTRAINT "app_permissions_assignments_role_fkey" FOREIGN KEY ("role") REFERENCES "app_permissions_roles"("name") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX "app_permissions_assignments_role_idx" ON "app_permissions_assignments"("role");
