-- @app/events: the transactional outbox (model EventOutbox in ../../schema.prisma), for sqlite.
CREATE TABLE "app_events_outbox" (
  "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "id" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "source" TEXT,
  "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX "app_events_outbox_id_key" ON "app_events_outbox"("id");
