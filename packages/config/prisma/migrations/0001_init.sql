-- @app/config: the ConfigEntry model (prisma/schema.prisma).
CREATE TABLE "app_config_entries" (
  "key"        TEXT         NOT NULL,
  "value"      TEXT         NOT NULL,
  "version"    BIGINT       NOT NULL,
  "deleted"    BOOLEAN      NOT NULL DEFAULT false,
  "expires_at" TIMESTAMPTZ(3),
  "updated_at" TIMESTAMPTZ(3) NOT NULL,
  CONSTRAINT "app_config_entries_pkey" PRIMARY KEY ("key")
);
