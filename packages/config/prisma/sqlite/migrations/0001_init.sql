-- @app/config: the ConfigEntry model (prisma/schema.prisma) for SQLite.
CREATE TABLE "app_config_entries" (
  "key"        TEXT     NOT NULL,
  "value"      TEXT     NOT NULL,
  "version"    BIGINT   NOT NULL,
  "deleted"    BOOLEAN  NOT NULL DEFAULT 0,
  "expires_at" DATETIME,
  "updated_at" DATETIME NOT NULL,
  CONSTRAINT "app_config_entries_pkey" PRIMARY KEY ("key")
);
